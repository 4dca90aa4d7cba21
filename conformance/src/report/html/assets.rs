//! The page's inline stylesheet and script (nothing is fetched; the Content-Security-Policy
//! allows only these, by nonce).

pub(super) const CSS: &str = r#"
:root{--pass:#1a7f37;--ns:#9a6700;--fail:#cf222e;--err:#8250df;--uns:#57606a;--skip:#8c959f;--line:#d0d7de;--muted:#59636e;--soft:#f6f8fa;--c:#59636e}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;padding:24px 32px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 4px}
h4{font-size:13px;margin:14px 0 4px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
h4 small,h4 code{text-transform:none;letter-spacing:0;font-weight:400}
header p,.muted,.meta,.why{color:var(--muted)}
header p{margin:0}
code,pre,.wire,.fixture{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
a{color:#0969da}
.v-PASS{--c:var(--pass)}.v-NON-STRICT{--c:var(--ns)}.v-FAIL{--c:var(--fail)}.v-ERROR{--c:var(--err)}.v-UNSUPPORTED{--c:var(--uns)}.v-SKIPPED{--c:var(--skip)}.v-DIFFERS{--c:var(--fail)}
.filters{display:flex;flex-wrap:wrap;gap:8px;margin:14px 0 18px}
.filter{font:inherit;border:1px solid var(--line);border-left:4px solid var(--c);background:#fff;border-radius:6px;padding:6px 14px;cursor:pointer;color:#1f2328}
.filter .n{font-size:20px;font-weight:600;margin-right:4px;color:var(--c);vertical-align:-1px}
.filter[aria-pressed=true]{background:var(--soft);box-shadow:inset 0 0 0 1px var(--c)}
.filter.zero{opacity:.55}
table.cases{border-collapse:collapse;width:100%}
.cases th,.cases td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
.cases thead th{font-size:12px;color:var(--muted);font-weight:600}
.group-head th{background:var(--soft);font-size:15px;padding-top:10px}
.group-head small{font-weight:400;color:var(--muted);font-size:12.5px}
.verdict{font-size:17px;font-weight:600;margin:14px 0 0;padding:8px 14px;border-left:5px solid var(--c);background:var(--soft);border-radius:0 6px 6px 0}
.targets .v-FAIL,.targets .v-ERROR,.targets .v-NON-STRICT{color:var(--c)}
details.suites{margin:0 0 14px}details.suites summary{color:var(--muted)}
table.suites{border-collapse:collapse;margin:6px 0 0}
.suites th,.suites td{text-align:left;padding:3px 10px;border-bottom:1px solid var(--line)}
.count{margin-right:12px;white-space:nowrap}.count .n{font-weight:600;color:var(--c)}
.num{text-align:right!important;white-space:nowrap;color:var(--muted)}
.level{font-size:12px;color:var(--muted)}
.badge{display:inline-block;min-width:96px;text-align:center;padding:1px 6px;border-radius:4px;background:var(--c);color:#fff;font-size:11.5px;font-weight:600;text-decoration:none}
code.id{font-weight:600}
.title{color:#1f2328}
summary{cursor:pointer}
summary .why{font-size:12.5px;margin-left:18px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:1100px}
.detail{margin:6px 0 8px 18px;padding-left:12px;border-left:2px solid var(--line)}
.meta{margin:6px 0}
.finding{border-left:4px solid var(--c);background:var(--soft);padding:4px 12px 8px;margin:6px 0;border-radius:0 6px 6px 0}
.finding p{margin:4px 0}
.ea{display:flex;gap:8px;align-items:baseline}.ea span{width:64px;flex:none;color:var(--muted);font-size:12px}
.ea pre,.fx-step{margin:2px 0;background:#fff;flex:1}
.tag{font-size:11px;border:1px solid var(--c);color:var(--c);border-radius:3px;padding:0 4px}
blockquote{margin:4px 0;padding:2px 12px;border-left:3px solid var(--line);font-style:italic}
.spec{margin:0 0 6px}
pre{background:var(--soft);padding:6px 8px;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
.l{display:block;padding-left:4.5em;text-indent:-4.5em}.hit{background:#fff1bf}
.ln{display:inline-block;width:3.5em;padding-right:1em;text-indent:0;text-align:right;color:var(--skip);user-select:none}
table.wire{border-collapse:collapse;width:100%}
.wire td{padding:2px 6px;border-bottom:1px solid #eef1f4;vertical-align:top;white-space:nowrap}
.wire td.data{white-space:pre-wrap;word-break:break-all;width:100%}
.wire .arrow{font-weight:700}.wire .tx .arrow{color:#0969da}.wire .rx .arrow{color:var(--pass)}
.wire .note td{color:var(--muted);font-style:italic}
.wire .kind{color:var(--muted)}
.wire .head{color:var(--muted)}
.pkt+.pkt{border-top:1px dashed var(--line)}
.hex{color:#6639ba}
.ctl{color:var(--fail)}
.targets{margin:4px 0 0}
[hidden]{display:none!important}
"#;

pub(super) const JS: &str = r#"
(function () {
  function filter(section, value) {
    section.querySelectorAll('button.filter').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.dataset.filter === value));
    });
    section.querySelectorAll('tbody.group').forEach(function (group) {
      var shown = 0;
      group.querySelectorAll('tr.case').forEach(function (row) {
        row.hidden = value !== 'ALL' && row.dataset.verdict !== value;
        if (!row.hidden) shown++;
      });
      group.hidden = shown === 0;
    });
  }
  document.addEventListener('click', function (event) {
    var button = event.target.closest('button.filter');
    if (button) filter(button.closest('section'), button.dataset.filter);
  });
  function openFromHash() {
    var params = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
      var at = pair.indexOf('=');
      if (at < 0) return;
      try { params[pair.slice(0, at)] = decodeURIComponent(pair.slice(at + 1)); } catch (e) {}
    });
    if (!params['case']) return;
    var scope = document;
    if (/^[0-9]+$/.test(params.target || '')) {
      scope = document.querySelector('section[data-target="' + params.target + '"]') || document;
    }
    var rows = scope.querySelectorAll('tr.case');
    for (var i = 0; i < rows.length; i++) {
      var details = rows[i].querySelector('details');
      if (rows[i].dataset.caseId !== params['case'] || !details) continue;
      if (rows[i].hidden) filter(rows[i].closest('section'), 'ALL');
      details.open = true;
      var top = rows[i].getBoundingClientRect().top;
      if (top < 0 || top > window.innerHeight - 120) rows[i].scrollIntoView({block: 'start'});
      return;
    }
  }
  window.addEventListener('hashchange', openFromHash);
  openFromHash();
})();
"#;
