/**
 * @file The dashboard page: a report (data inside the file), or a page served by
 * `engram train --dashboard` (live) or `engram dashboard` (past runs).
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { API, REPORT_DATA_ID, type ReportData, type ServerInfo } from '../src/server/protocol.js';
import { h } from './dom.js';
import { liveView } from './live.js';
import { reportView } from './report.js';
import { runsView } from './runs.js';

async function boot(): Promise<void> {
  const root = document.getElementById('app')!;
  const embedded = document.getElementById(REPORT_DATA_ID);
  try {
    if (embedded?.textContent) {
      reportView(root, JSON.parse(embedded.textContent) as ReportData);
    } else {
      const info = (await (await fetch(API.info, { cache: 'no-store' })).json()) as ServerInfo;
      document.title = `engram · ${info.title}`;
      if (info.mode === 'live') liveView(root, info);
      else await runsView(root, info);
    }
    document.body.dataset.ready = 'true';
  } catch (err) {
    root.append(h('p', { class: 'error' }, `The dashboard could not start: ${(err as Error).message}`));
    document.body.dataset.ready = 'error';
  }
}

void boot();
