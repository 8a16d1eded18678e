const fs=require('fs');const f=fs.readdirSync('/tmp/prof').map(x=>'/tmp/prof/'+x)[0];
const p=JSON.parse(fs.readFileSync(f));const self=new Map();const dt=p.timeDeltas;const idx=new Map(p.nodes.map((n,i)=>[n.id,n]));
const cnt=new Map();p.samples.forEach((s,i)=>cnt.set(s,(cnt.get(s)||0)+(dt[i]||0)));
for(const [id,t] of cnt){const n=idx.get(id);const k=n.callFrame.functionName+' '+n.callFrame.url.split('/').slice(-2).join('/')+':'+n.callFrame.lineNumber;self.set(k,(self.get(k)||0)+t);}
const tot=[...self.values()].reduce((a,b)=>a+b,0);[...self.entries()].sort((a,b)=>b[1]-a[1]).slice(0,16).forEach(([k,t])=>console.log((100*t/tot).toFixed(1)+'%',k));
