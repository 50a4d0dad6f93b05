/* Shequ shell behaviour. Every essential path works without it; it only smooths the
   edges: confirmations, no double submissions on slow networks, the CSRF header on htmx
   requests, and error/offline messages in #flash. No framework, no inline code (CSP). */
(function () {
  'use strict';
  var doc = document;

  function flash(text, kind) {
    var box = doc.getElementById('flash');
    if (!box || !text) return;
    var p = doc.createElement('p');
    p.className = 'flash' + (kind ? ' flash-' + kind : '');
    p.setAttribute('role', 'alert');
    p.textContent = text;
    box.textContent = '';
    box.appendChild(p);
    if (box.scrollIntoView) box.scrollIntoView({ block: 'nearest' });
  }
  function boxText(name) {
    var box = doc.getElementById('flash');
    return box ? box.getAttribute('data-' + name) : '';
  }

  // data-confirm="…" on a form, a submit button or a link: ask first. (For htmx
  // elements hx-confirm does the same.) Capture phase, so it runs before htmx.
  doc.addEventListener('submit', function (e) {
    var btn = e.submitter, form = e.target;
    var msg = (btn && btn.getAttribute('data-confirm')) || form.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  doc.addEventListener('click', function (e) {
    var a = e.target.closest ? e.target.closest('a[data-confirm]') : null;
    if (a && !window.confirm(a.getAttribute('data-confirm'))) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // A plain form is sent once: a second tap while the page loads does nothing.
  // (htmx forms are left to htmx, which has already called preventDefault.)
  doc.addEventListener('submit', function (e) {
    var form = e.target;
    if (e.defaultPrevented || form.hasAttribute('data-resubmit')) return;
    if (form.getAttribute('aria-busy') === 'true') {
      e.preventDefault();
      return;
    }
    form.setAttribute('aria-busy', 'true');
  });
  window.addEventListener('pageshow', function () {
    var busy = doc.querySelectorAll('form[aria-busy="true"]');
    for (var i = 0; i < busy.length; i++) busy[i].removeAttribute('aria-busy');
  });

  // <select data-autosubmit> submits its form on change (filters).
  doc.addEventListener('change', function (e) {
    var el = e.target;
    if (el.hasAttribute && el.hasAttribute('data-autosubmit') && el.form) {
      if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
    }
  });

  // htmx: CSRF header; error fragments of Renderer.Error go into #flash; a failed or
  // timed-out request says so instead of doing nothing.
  doc.addEventListener('htmx:configRequest', function (e) {
    var m = doc.querySelector('meta[name="csrf-token"]');
    if (m) e.detail.headers['X-CSRF-Token'] = m.getAttribute('content');
  });
  doc.addEventListener('htmx:beforeSwap', function (e) {
    var x = e.detail.xhr;
    if (x && x.status >= 400 && x.getResponseHeader('X-Shequ-Error')) e.detail.shouldSwap = true;
  });
  doc.addEventListener('htmx:responseError', function (e) {
    var x = e.detail.xhr;
    if (x && x.getResponseHeader('X-Shequ-Error')) return;
    flash(boxText('failed'), 'error');
  });
  function offline() { flash(boxText('offline'), 'error'); }
  doc.addEventListener('htmx:sendError', offline);
  doc.addEventListener('htmx:timeout', offline);

  // Tree expander buttons (.tree .expander, loading children with htmx once): later
  // clicks fold and unfold the loaded subtree.
  doc.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('.tree .expander') : null;
    if (!b) return;
    var open = b.getAttribute('aria-expanded') === 'true';
    b.setAttribute('aria-expanded', open ? 'false' : 'true');
    var sub = b.parentNode && b.parentNode.querySelector(':scope > .subtree');
    if (sub) sub.hidden = open;
  });

  // On phones the nav is a scrolling bar: bring the current item into view.
  var cur = doc.querySelector('.mainnav [aria-current="page"]');
  if (cur && cur.scrollIntoView && window.matchMedia('(max-width: 899px)').matches) {
    cur.scrollIntoView({ block: 'nearest', inline: 'center' });
  }
})();
