/**
 * @file The playground page: pick a preset or edit its main settings, train it in a Web
 * Worker (worker.ts) and watch it with the dashboard's live view; download the weights as a
 * `.safetensors` file `engram test --checkpoint` reads, or drop one in to inspect and test it.
 * `?preset=NAME&autostart=1` trains on load (any field's key, e.g. `&train.threads=2`, sets it);
 * `window.engram.status()` gives the latest evaluation.
 */
import 'uplot/dist/uPlot.min.css';
import '../style.css';
import './playground.css';
import { applyOverrides, cloneConfig, findPreset, PRESETS, type Config } from '../../src/browser.js';
import type { Inspection, LiveEvent } from '../../src/server/protocol.js';
import { download, h } from '../dom.js';
import { liveView } from '../live.js';
import type { FromWorker, PlaygroundStatus, ToWorker } from './messages.js';

/** The settings the form shows, as dotted config keys (the same keys and rules as `--set`). */
const FIELDS: readonly { key: string; label: string }[] = [
  { key: 'seed', label: 'seed' },
  { key: 'train.steps', label: 'steps' },
  { key: 'train.evalEvery', label: 'evaluate every' },
  { key: 'train.untilBitErrors', label: 'stop below bit errors' },
  { key: 'train.batchSize', label: 'batch size' },
  { key: 'train.threads', label: 'threads' },
  { key: 'optimizer.lr', label: 'learning rate' },
  { key: 'model.hiddenSize', label: 'controller size' },
  { key: 'model.memorySlots', label: 'memory slots' },
  { key: 'model.wordSize', label: 'word size' },
  { key: 'task.minWords', label: 'min words' },
  { key: 'task.maxWords', label: 'max words' },
];

const DEFAULT_PRESET = 'ntm-copy-fast';
/** The preset menu's entry for the settings of the last file loaded. */
const FROM_FILE = '(file)';

function valueAt(config: Config, key: string): string {
  let o: unknown = config;
  for (const part of key.split('.')) o = (o as Record<string, unknown>)[part];
  return String(o);
}

function boot(): void {
  const params = new URLSearchParams(location.search);
  const root = document.getElementById('app')!;
  const message = h('div', { class: 'message', role: 'status', 'data-message': '' });
  const say = (text: string, error = false): void => {
    message.textContent = text;
    message.dataset.error = String(error);
  };

  // --- the form: a preset and its main settings ---
  const presetSelect = h('select', { 'aria-label': 'preset', 'data-field': 'preset' },
    ...PRESETS.map((p) => h('option', { value: p.name }, p.name)));
  const wanted = params.get('preset') ?? DEFAULT_PRESET;
  if (findPreset(wanted) === undefined) say(`no preset "${wanted}"; showing ${DEFAULT_PRESET}`, true);
  presetSelect.value = findPreset(wanted) ? wanted : DEFAULT_PRESET;
  const inputs = new Map<string, HTMLInputElement>();
  const formError = h('div', { class: 'error', 'data-form-error': '' });
  const fields = h('div', { class: 'fields' }, h('label', {}, 'preset ', presetSelect),
    ...FIELDS.map(({ key, label }) => {
      const input = h('input', { class: 'num', name: key, 'data-field': key, title: key, oninput: () => checkForm() });
      inputs.set(key, input);
      return h('label', {}, `${label} `, input);
    }));
  // gradient threads share memory with Web Workers: only on a cross-origin isolated page
  const isolated = globalThis.crossOriginIsolated === true;
  const threadsAvailable = isolated;
  const fillFrom = (config: Config): void => {
    for (const [key, input] of inputs) input.value = valueAt(config, key);
    checkForm();
  };
  presetSelect.addEventListener('change', () => fillFrom(baseConfig()));

  /** The config of the last file loaded: the base of the form while its entry is the chosen "preset". */
  let fileConfig: Config | null = null;
  let fileName = '';
  const fileOption = h('option', { value: FROM_FILE, hidden: true }, 'the loaded file');
  presetSelect.append(fileOption);
  const baseConfig = (): Config => (presetSelect.value === FROM_FILE && fileConfig !== null ? fileConfig : findPreset(presetSelect.value)!.config);

  /** The config the form describes, or null with every problem shown (the CLI's words for `--set`). */
  function checkForm(): Config | null {
    const config = cloneConfig(baseConfig());
    for (const input of inputs.values()) input.setCustomValidity('');
    try {
      applyOverrides(config, [...inputs].map(([key, input]) => `${key}=${input.value}`));
    } catch (err) {
      const text = (err as Error).message;
      // every field the message names is marked
      for (const { key } of FIELDS) if (new RegExp(`(^|[^\\w.])${key.replace('.', '\\.')}(?![\\w])`).test(text)) inputs.get(key)!.setCustomValidity(text);
      formError.textContent = text;
      return null;
    }
    if (config.train.threads > 1 && !threadsAvailable) {
      const text = `train.threads=${config.train.threads}: gradient threads need a cross-origin isolated page (served with COOP/COEP headers, as engram playground serves it); this one trains on 1 thread`;
      inputs.get('train.threads')!.setCustomValidity(text);
      formError.textContent = text;
      return null;
    }
    formError.textContent = '';
    return config;
  }
  // --- the worker ---
  const fma = params.get('fma');
  const worker = new Worker(new URL(`./worker.js${fma !== null ? `?fma=${encodeURIComponent(fma)}` : ''}`, import.meta.url), { type: 'module' });
  const send = (m: ToWorker): void => worker.postMessage(m);
  let status: PlaygroundStatus = { step: 0, bitErrorsPerSeq: null, loss: null, msPerStep: null, done: false };
  let inspection: Inspection | null = null;
  let kernels = '';
  let started = false;
  let state: 'idle' | 'training' | 'paused' | 'done' = 'idle';
  let apply: (ev: LiveEvent) => void = () => {};

  const trainButton = h('button', { type: 'button', 'data-action': 'train', onclick: () => start(false) }, 'Train');
  const pauseButton = h('button', { type: 'button', 'data-action': 'pause', onclick: () => { send({ type: 'pause' }); setState('paused'); } }, 'Pause');
  const resumeButton = h('button', { type: 'button', 'data-action': 'resume', onclick: () => { send({ type: 'resume' }); setState('training'); } }, 'Resume');
  const resetButton = h('button', { type: 'button', 'data-action': 'reset', onclick: () => start(true) }, 'Reset');
  const downloadButton = h('button', { type: 'button', 'data-action': 'download', onclick: () => send({ type: 'download' }) }, 'Download weights');
  const fileInput = h('input', { type: 'file', accept: '.safetensors', 'data-action': 'open', onchange: () => { const f = fileInput.files?.[0]; if (f) void openFile(f); fileInput.value = ''; } });
  const setState = (s: typeof state): void => {
    state = s;
    pauseButton.disabled = s !== 'training';
    resumeButton.disabled = s !== 'paused';
    downloadButton.disabled = !started;
    document.body.dataset.state = s;
  };
  setState('idle');
  trainButton.disabled = true; // until the kernels are in

  function start(paused: boolean): void {
    const config = checkForm();
    if (config === null) {
      say('the settings are not valid; see the message under the form', true);
      return;
    }
    started = true;
    const fromFile = presetSelect.value === FROM_FILE;
    send({ type: 'start', config, name: fromFile ? `settings of ${fileName}` : presetSelect.value, paused });
    setState(paused ? 'paused' : 'training');
    const what = fromFile ? "the loaded file's settings" : presetSelect.value;
    const threads = `${config.train.threads} thread${config.train.threads > 1 ? 's' : ''}`;
    say(paused ? `reset: a new model of ${what} (seed ${config.seed}); Resume trains it` : `training ${what} (seed ${config.seed}) on ${kernels} kernels, ${threads}`);
  }

  async function openFile(file: File): Promise<void> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    send({ type: 'load', bytes, name: file.name });
  }

  worker.onmessage = (ev: MessageEvent<FromWorker>) => {
    const m = ev.data;
    switch (m.type) {
      case 'ready':
        kernels = m.kernels;
        kernelsNote.textContent = `kernels: ${m.kernels}; ${isolated ? `cross-origin isolated: up to ${navigator.hardwareConcurrency} gradient threads (train.threads)` : 'not cross-origin isolated: 1 training thread'}`;
        trainButton.disabled = false;
        document.body.dataset.ready = 'true';
        if (params.get('autostart') === '1') start(false);
        break;
      case 'live':
        if (m.event.type === 'inspection') inspection = m.event.data;
        apply(m.event);
        break;
      case 'status':
        status = m.status;
        if (m.status.done && state !== 'idle') setState('done');
        break;
      case 'weights':
        download(new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), m.name);
        say(`downloaded ${m.name}: test it with npx engram test --checkpoint ${m.name}`);
        break;
      case 'loaded':
        started = true;
        fileConfig = m.config;
        fileName = m.name;
        fileOption.hidden = false;
        fileOption.textContent = `${m.name} (${m.config.model.type} on ${m.config.task.name})`;
        presetSelect.value = FROM_FILE;
        fillFrom(m.config);
        setState('done');
        say(`loaded ${m.name}: ${m.config.model.type.toUpperCase()} on ${m.config.task.name}, step ${m.step}; ` +
          `${m.bitErrorsPerSeq.toFixed(3)} bit errors per sequence over ${m.config.train.evalBatches} batches`);
        break;
      case 'message':
        say(m.text, m.error);
        if (m.error && m.text.startsWith('training stopped')) setState('done');
        break;
    }
  };
  worker.onerror = (ev) => {
    ev.preventDefault();
    say(`the training worker failed: ${ev.message}`, true);
  };

  const kernelsNote = h('div', { class: 'note', 'data-kernels': '' }, 'loading the kernels…');
  const drop = h('div', { class: 'drop', 'data-drop': '' }, 'Drop a .safetensors weights file here (from engram train or this page) to inspect and test it, or ', fileInput);
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const f = ev.dataTransfer?.files[0];
    if (f) void openFile(f);
  });
  root.append(h('section', { class: 'panel playground' }, h('h2', {}, 'Playground'), fields, formError,
    h('div', { class: 'controls' }, trainButton, pauseButton, resumeButton, resetButton, downloadButton), message, drop, kernelsNote));
  const view = h('div', {});
  root.append(view);
  liveView(view, { mode: 'live', title: 'playground' }, (a) => { apply = a; });
  fillFrom(findPreset(presetSelect.value)!.config);
  // a setting in the address (`?train.threads=2&seed=3`) overrides the preset's
  for (const [key, input] of inputs) if (params.has(key)) input.value = params.get(key)!;
  checkForm();

  (globalThis as unknown as { engram: unknown }).engram = {
    /** the latest evaluation: step, bit errors and loss per sequence, ms per training step, done */
    status: (): PlaygroundStatus => status,
    /** the inspector's data now shown (null before the first evaluation or file) */
    inspection: (): Inspection | null => inspection,
    kernels: (): string => kernels,
  };
}

boot();
