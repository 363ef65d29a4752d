/**
 * The web UI's only assets, compiled into the server so the feed works offline and needs no build step: one
 * stylesheet (light and dark via prefers-color-scheme) and one small script (search as you type, copy buttons,
 * install-command tabs, version switching, upload progress). Pages work without the script, except search as you
 * type (the search form submits instead).
 */
import { createHash } from 'node:crypto';

export const CSS = `
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;--accent:#0b5cad;--accent-fg:#fff;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--code:#eff1f3;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;--card:#161b22;--accent:#58a6ff;--accent-fg:#0d1117;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--code:#1f2630}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--bg);padding:4px 8px;z-index:9}
header.top{border-bottom:1px solid var(--line);background:var(--card)}
header.top nav{max-width:1100px;margin:0 auto;padding:10px 16px;display:flex;gap:18px;align-items:center;flex-wrap:wrap}
header.top .brand{font-weight:700;font-size:1.15rem;text-decoration:none;color:var(--fg)}
header.top .feed-name{margin-left:-10px;padding:1px 8px;border:1px solid var(--line);border-radius:999px;color:var(--muted);font-size:.9rem}
header.top a{text-decoration:none}
header.top .account{margin-left:auto;display:flex;gap:14px;align-items:center;flex-wrap:wrap}
header.top .account .who{font-weight:600}
main{max-width:1100px;margin:0 auto;padding:16px}
footer{max-width:1100px;margin:32px auto;padding:0 16px;color:var(--muted);font-size:.85rem}
h1{font-size:1.6rem;margin:.3em 0;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin:1.2em 0 .4em}
.muted{color:var(--muted)}
.search{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin:8px 0 16px}
.search input[type=search]{flex:1 1 100%;font:inherit;padding:10px 12px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
select,input[type=password],input[type=text],input[type=file]{font:inherit;padding:6px 8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);max-width:100%}
button,.button{font:inherit;padding:6px 12px;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg);cursor:pointer}
button.primary{background:var(--accent);color:var(--accent-fg);border-color:var(--accent)}
.cards{list-style:none;margin:0;padding:0}
.card{display:flex;gap:14px;padding:14px 0;border-bottom:1px solid var(--line)}
.card img,.pkg-head img{width:48px;height:48px;flex:none;border-radius:6px;object-fit:contain;background:var(--card)}
.card .body{min-width:0;flex:1}
.card h3{margin:0;font-size:1.1rem;overflow-wrap:anywhere}
.card h3 a{text-decoration:none}
.card p{margin:.2em 0;overflow-wrap:anywhere}
.meta{display:flex;flex-wrap:wrap;gap:4px 14px;color:var(--muted);font-size:.9rem}
.tag{display:inline-block;background:var(--code);border-radius:4px;padding:0 6px;margin:2px 4px 0 0;font-size:.85rem;text-decoration:none;color:var(--fg)}
.verified{color:var(--ok);font-weight:600}
.mirrored{font-style:italic}
.fingerprint{font-size:.75em;word-break:break-all}
.pager{display:flex;gap:12px;align-items:center;margin:16px 0}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 300px;gap:28px}
@media (max-width:800px){.layout{grid-template-columns:minmax(0,1fr)}}
.pkg-head{display:flex;gap:14px;align-items:center}
.pkg-head img{width:64px;height:64px}
aside section{border-top:1px solid var(--line);padding:6px 0}
aside dl{margin:0}aside dt{font-weight:600;margin-top:6px}aside dd{margin:0;overflow-wrap:anywhere}
.banner{border:1px solid;border-radius:6px;padding:8px 12px;margin:12px 0}
.banner.warn{border-color:var(--warn)}.banner.bad{border-color:var(--bad)}
.install{border:1px solid var(--line);border-radius:6px;margin:12px 0}
.tabs{display:flex;flex-wrap:wrap;border-bottom:1px solid var(--line)}
.tabs button{border:0;border-radius:0;background:none;padding:6px 10px;font-size:.9rem;border-bottom:2px solid transparent}
.tabs button[aria-selected=true]{border-bottom-color:var(--accent);font-weight:600}
.panel{display:flex;gap:8px;align-items:flex-start;padding:8px}
.panel pre{flex:1;margin:0;overflow-x:auto}
.js .panel[hidden]{display:none}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre{background:var(--code);padding:10px;border-radius:6px;overflow-x:auto}
:not(pre)>code{background:var(--code);padding:1px 4px;border-radius:4px}
.readme{overflow-wrap:anywhere}.readme img{max-width:100%;height:auto}
.readme table,table.versions{border-collapse:collapse;display:block;overflow-x:auto}
.readme th,.readme td,table.versions th,table.versions td{border:1px solid var(--line);padding:4px 8px;text-align:left}
table.versions{font-size:.9rem}
tr.current{font-weight:700}
.unlisted{color:var(--muted)}
.deps ul{margin:.2em 0 .6em;padding-left:1.2em}
.status{margin-top:12px;padding:8px 12px;border-radius:6px;white-space:pre-wrap}
.status.ok{border:1px solid var(--ok)}.status.bad{border:1px solid var(--bad)}
.stats{display:flex;flex-wrap:wrap;gap:12px;list-style:none;padding:0}
.stats li{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:140px}
.stats strong{display:block;font-size:1.4rem}
form.upload{display:grid;gap:12px;max-width:560px}
form.upload progress{width:100%}
form.inline{display:inline}
.manage{margin-top:24px;border-top:1px solid var(--line)}
.manage-actions{display:flex;flex-wrap:wrap;gap:8px;align-items:center}
form.stacked{display:grid;gap:8px;max-width:560px;margin-top:8px}
form.stacked fieldset{border:1px solid var(--line);border-radius:6px}
form.stacked textarea,form.stacked input[name=alternate]{width:100%;font:inherit}
ul.owners{list-style:none;padding:0}ul.owners li{padding:2px 0}
button.danger{border-color:var(--bad);color:var(--bad)}
form.create-key{display:grid;gap:12px;max-width:640px}form.create-key fieldset{border:1px solid var(--line);border-radius:6px}form.create-key fieldset label{font-weight:400}
code.new-key{word-break:break-all;font-size:1.05rem}
label{font-weight:600}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

export const JS = `
(function(){
'use strict';
document.documentElement.classList.add('js');
function $(s,r){return (r||document).querySelector(s);}
function el(tag,attrs,children){var e=document.createElement(tag);if(attrs)for(var k in attrs){if(k==='text')e.textContent=attrs[k];else e.setAttribute(k,attrs[k]);}(children||[]).forEach(function(c){if(c)e.appendChild(c);});return e;}
function fmt(n){return Number(n).toLocaleString('en-US');}
// A feed's pages live under its path prefix (/f/{name}); so do the links made here and the APIs called.
var base=document.body.getAttribute('data-feed-path')||'';
function pkgUrl(id,v){return base+'/packages/'+encodeURIComponent(id)+(v?'/'+encodeURIComponent(v):'');}
function host(u){try{return new URL(u).host;}catch(e){return u;}}

// Copy buttons: data-copy names the element whose text is copied.
document.addEventListener('click',function(ev){
  var b=ev.target.closest&&ev.target.closest('button[data-copy]');if(!b)return;
  var src=document.getElementById(b.getAttribute('data-copy'));if(!src)return;
  var text=src.textContent||'';
  var done=function(){var old=b.getAttribute('data-label')||b.textContent;b.setAttribute('data-label',old);b.textContent='Copied!';setTimeout(function(){b.textContent=old;},1500);};
  if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(text).then(done,function(){fallback(text);done();});}else{fallback(text);done();}
});
function fallback(text){var t=el('textarea',{readonly:'', 'aria-hidden':'true'});t.value=text;t.style.position='fixed';t.style.opacity='0';document.body.appendChild(t);t.select();try{document.execCommand('copy');}catch(e){}t.remove();}

// Install-command tabs (without the script every panel shows).
document.querySelectorAll('.install').forEach(function(box){
  var tabs=box.querySelectorAll('[role=tab]');
  function show(tab){tabs.forEach(function(t){var on=t===tab;t.setAttribute('aria-selected',on?'true':'false');t.tabIndex=on?0:-1;var p=document.getElementById(t.getAttribute('aria-controls'));if(p)p.hidden=!on;});}
  tabs.forEach(function(t,i){t.addEventListener('click',function(){show(t);});t.addEventListener('keydown',function(ev){var d=ev.key==='ArrowRight'?1:ev.key==='ArrowLeft'?-1:0;if(!d)return;var n=tabs[(i+d+tabs.length)%tabs.length];n.focus();show(n);});});
  if(tabs[0])show(tabs[0]);
});

// Version selector: navigate on change.
var vs=$('#version-select');if(vs){vs.addEventListener('change',function(){location.href=vs.value;});var go=$('#version-go');if(go)go.hidden=true;}

// Search as you type, through the search API.
var form=$('form.search');
if(form){
  var q=$('#q'),pre=$('#prerelease'),type=$('#packageType'),list=$('#results'),count=$('#count'),pager=$('#pager'),timer=0,seq=0,TAKE=20;
  function run(skip){
    var my=++seq;
    var params=new URLSearchParams({q:q.value,skip:String(skip),take:String(TAKE),semVerLevel:'2.0.0',prerelease:pre.checked?'true':'false'});
    if(type.value)params.set('packageType',type.value);
    fetch(base+'/v3/search?'+params,{headers:{accept:'application/json'},credentials:'same-origin'}).then(function(r){if(!r.ok)throw new Error(r.status+' '+r.statusText);return r.json();}).then(function(data){
      if(my!==seq)return;
      render(data,skip);
      var page=new URLSearchParams();if(q.value)page.set('q',q.value);if(pre.checked)page.set('prerelease','true');if(type.value)page.set('packageType',type.value);if(skip)page.set('page',String(skip/TAKE+1));
      history.replaceState(null,'',location.pathname+(page.toString()?'?'+page:''));
    }).catch(function(e){if(my===seq)count.textContent='Search failed: '+e.message;});
  }
  function render(data,skip){
    list.textContent='';
    data.data.forEach(function(p){
      var title=el('h3',null,[el('a',{href:pkgUrl(p.id),text:p.id})]);
      var meta=el('div',{'class':'meta'},[el('span',{text:'v'+p.version}),el('span',{text:fmt(p.totalDownloads)+' downloads'}),p.verified?el('span',{'class':'verified',title:'The id is under a prefix reserved for its owner',text:'\\u2713 verified'}):null,p.mirroredFrom?el('span',{'class':'mirrored',title:p.mirroredFrom,text:'Mirrored from '+host(p.mirroredFrom)}):null,p.authors&&p.authors.length?el('span',{text:'by '+p.authors.join(', ')}):null]);
      var tags=el('div',null,(p.tags||[]).slice(0,8).map(function(t){return el('a',{'class':'tag',href:base+'/?q='+encodeURIComponent('tags:'+t),text:t});}));
      var img=el('img',{src:pkgUrl(p.id,p.version)+'/icon',alt:'',width:'48',height:'48',loading:'lazy'});
      list.appendChild(el('li',{'class':'card'},[img,el('div',{'class':'body'},[title,el('p',{text:p.summary||p.description}),meta,tags])]));
    });
    count.textContent=data.totalHits===1?'1 package':fmt(data.totalHits)+' packages';
    pager.textContent='';
    if(skip>0){var prev=el('button',{type:'button',text:'\\u2190 Previous'});prev.addEventListener('click',function(){run(Math.max(0,skip-TAKE));});pager.appendChild(prev);}
    if(data.totalHits>TAKE)pager.appendChild(el('span',{'class':'muted',text:'Page '+(skip/TAKE+1)+' of '+Math.ceil(data.totalHits/TAKE)}));
    if(skip+TAKE<data.totalHits){var next=el('button',{type:'button',text:'Next \\u2192'});next.addEventListener('click',function(){run(skip+TAKE);});pager.appendChild(next);}
  }
  q.addEventListener('input',function(){clearTimeout(timer);timer=setTimeout(function(){run(0);},150);});
  pre.addEventListener('change',function(){run(0);});type.addEventListener('change',function(){run(0);});
  form.addEventListener('submit',function(ev){ev.preventDefault();clearTimeout(timer);run(0);});
}

// Upload through the push endpoint with a progress bar; the server's message is shown as it is. (Without the
// script the form posts to the feed's /upload, which answers with a page.)
var up=$('form.upload');
if(up){
  up.addEventListener('submit',function(ev){
    ev.preventDefault();
    var file=$('#package').files[0],key=$('#apikey').value,out=$('#upload-status'),bar=$('#upload-progress'),button=$('button[type=submit]',up);
    out.hidden=false;out.className='status';
    if(!file){out.textContent='Choose a .nupkg file first.';return;}
    out.textContent='Uploading '+file.name+'\u2026';
    var x=new XMLHttpRequest();
    function done(){bar.hidden=true;button.disabled=false;out.textContent='';}
    x.upload.addEventListener('progress',function(e){if(e.lengthComputable){bar.max=e.total;bar.value=e.loaded;}});
    x.addEventListener('load',function(){
      done();
      var t=x.responseText;
      if(x.status===201){out.className='status ok';out.appendChild(document.createTextNode(t+' '));var m=/^Package (\\S+) (\\S+) was/.exec(t);if(m)out.appendChild(el('a',{href:pkgUrl(m[1],m[2]),text:'Open '+m[1]+' '+m[2]}));}
      else{out.className='status bad';out.textContent=x.status+': '+(t||x.statusText);}
    });
    x.addEventListener('error',function(){done();out.className='status bad';out.textContent='Upload failed: the connection was lost.';});
    x.open('PUT',base+'/api/v2/package');
    x.setRequestHeader('content-type','application/octet-stream');
    x.setRequestHeader('x-nuget-apikey',key);
    bar.removeAttribute('value');bar.hidden=false;button.disabled=true;
    x.send(file);
  });
}
})();
`;

/** A short content hash for cache-busting asset URLs (`/ui/app.css?v=...`, cached for a year). */
export const ASSET_VERSION = createHash('sha256').update(CSS).update(JS).digest('hex').slice(0, 12);
