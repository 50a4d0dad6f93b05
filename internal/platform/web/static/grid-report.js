/* The grid worker's report on the phone (internal/grid/http_report.go). The form works without
   this script as a plain multipart POST; with it:
   - photos are scaled down in the browser (long side ≤ cfg.maxSide px, JPEG at cfg.quality) and
     sent through the resumable upload protocol (POST /grid/uploads, then PATCH chunks of
     cfg.chunk bytes at the offset the server holds, HEAD to resume after a broken connection);
   - every report is first stored as a draft in IndexedDB (fields and photo blobs) under a random
     client key, then sent as JSON-answered POST naming the uploads; it leaves IndexedDB only when
     the server has answered with the stored incident (a resend under the same key is stored once);
   - drafts that could not be sent wait in the outbox ("待发送 2 条") and are sent again when the
     network returns, on every page load and every minute; a draft the server refused (422) waits
     for the worker to correct it.
   Configuration and texts come from <script type="application/json" id="report-config">. No
   inline code (CSP). Drafts are kept per account: a shared phone sends only the signed-in
   worker's drafts. */
(function () {
  'use strict';
  var doc = document;
  var cfgEl = doc.getElementById('report-config');
  if (!cfgEl || !window.fetch || !window.Promise) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var M = cfg.msgs || {};
  var form = doc.getElementById('report-form');
  var statusBox = doc.getElementById('report-status');

  // ---- small helpers ----

  function fmt(s) {
    var args = Array.prototype.slice.call(arguments, 1);
    return String(s || '').replace(/%[sd]/g, function () { return args.length ? String(args.shift()) : ''; });
  }
  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function say(text, kind, link) {
    if (!statusBox) return;
    statusBox.textContent = '';
    if (!text) return;
    var p = el('p', 'flash' + (kind ? ' flash-' + kind : ''), text);
    if (link) {
      p.appendChild(doc.createTextNode(' '));
      var a = el('a', null, link.text);
      a.href = link.href;
      p.appendChild(a);
    }
    statusBox.appendChild(p);
    if (statusBox.scrollIntoView) statusBox.scrollIntoView({ block: 'nearest' });
  }
  function uuid() {
    var b = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(b); // randomUUID needs HTTPS; intranets are often plain HTTP
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = [];
    for (var i = 0; i < 16; i++) h.push((b[i] + 0x100).toString(16).slice(1));
    return h.slice(0, 4).join('') + '-' + h.slice(4, 6).join('') + '-' + h.slice(6, 8).join('') + '-' +
      h.slice(8, 10).join('') + '-' + h.slice(10).join('');
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function csrfHeaders(h) {
    var m = doc.querySelector('meta[name="csrf-token"]');
    if (m) h['X-CSRF-Token'] = m.getAttribute('content');
    return h;
  }

  // Outcomes of a send, as thrown errors.
  function Failure(kind, errors) { this.kind = kind; this.errors = errors || []; }
  // kind: 'retry' (network, 5xx: keep queued), 'invalid' (422: needs the worker), 'login' (signed out)

  // ---- the outbox in IndexedDB ----

  var DB_NAME = 'shequ-grid', STORE = 'outbox';
  var dbPromise = null;
  function openDB() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve) {
      if (!window.indexedDB) { resolve(null); return; }
      var req;
      try { req = indexedDB.open(DB_NAME, 1); } catch (e) { resolve(null); return; }
      req.onupgradeneeded = function () {
        var d = req.result;
        if (!d.objectStoreNames.contains(STORE)) d.createObjectStore(STORE, { keyPath: 'key' });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { resolve(null); };
      req.onblocked = function () { resolve(null); };
    });
    return dbPromise;
  }
  function store(mode, fn) {
    return openDB().then(function (d) {
      if (!d) return null;
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode);
        var out = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(out && 'result' in out ? out.result : null); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function putDraft(d) { return store('readwrite', function (s) { return s.put(d); }); }
  function deleteDraft(key) { return store('readwrite', function (s) { return s.delete(key); }); }
  function getDraft(key) { return store('readonly', function (s) { return s.get(key); }); }
  function drafts() {
    return store('readonly', function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).filter(function (d) { return d.user === cfg.user; })
        .sort(function (a, b) { return a.created - b.created; });
    });
  }

  // ---- resumable upload of one photo ----

  function uploadURL(id) { return '/grid/uploads/' + encodeURIComponent(id); }

  async function request(method, url, opts) {
    opts = opts || {};
    try {
      return await fetch(url, {
        method: method, body: opts.body, credentials: 'same-origin', redirect: 'manual', cache: 'no-store',
        headers: csrfHeaders(Object.assign({ 'Accept': 'application/json' }, opts.headers || {}))
      });
    } catch (e) {
      throw new Failure('retry');
    }
  }
  function signedOut(res) { return res.type === 'opaqueredirect' || res.status === 401 || res.status === 0; }
  async function errorsOf(res) {
    try { var j = await res.json(); return j.errors || []; } catch (e) { return []; }
  }

  async function serverOffset(ph) {
    var res = await request('HEAD', uploadURL(ph.upload));
    if (signedOut(res)) throw new Failure('login');
    if (res.status === 404) return -1;
    if (!res.ok) throw new Failure('retry');
    return parseInt(res.headers.get('Upload-Offset'), 10) || 0;
  }

  // uploadPhoto brings ph (a draft photo) to a complete upload; onProgress(bytes sent).
  async function uploadPhoto(ph, onProgress) {
    var size = ph.blob.size;
    for (var restart = 0; restart < 2; restart++) {
      if (!ph.upload) {
        var res = await request('POST', '/grid/uploads', {
          body: JSON.stringify({ size: size, type: ph.blob.type || 'image/jpeg' }),
          headers: { 'Content-Type': 'application/json' }
        });
        if (signedOut(res)) throw new Failure('login');
        if (res.status === 422) throw new Failure('invalid', await errorsOf(res));
        if (res.status !== 201) throw new Failure('retry');
        ph.upload = (await res.json()).id;
        ph.done = false;
      }
      var offset = await serverOffset(ph);
      if (offset < 0) { ph.upload = null; continue; } // purged or unknown: start again
      var failures = 0;
      while (offset < size) {
        onProgress(offset);
        var r;
        try {
          r = await fetch(uploadURL(ph.upload), {
            method: 'PATCH', body: ph.blob.slice(offset, offset + cfg.chunk), credentials: 'same-origin',
            redirect: 'manual', cache: 'no-store',
            headers: csrfHeaders({ 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' })
          });
        } catch (e) {
          r = null;
        }
        if (r && (r.status === 204 || r.status === 409)) {
          offset = parseInt(r.headers.get('Upload-Offset'), 10) || 0;
          if (r.status === 204) failures = 0;
          continue;
        }
        if (r && signedOut(r)) throw new Failure('login');
        if (r && r.status === 404) { ph.upload = null; break; }
        if (r && r.status === 422) throw new Failure('invalid', await errorsOf(r));
        // network or server trouble: wait (1, 2, 4 … 30 s), ask where we are, go on
        if (++failures > 6) throw new Failure('retry');
        await sleep(Math.min(30000, 1000 * Math.pow(2, failures - 1)));
        offset = await serverOffset(ph);
        if (offset < 0) { ph.upload = null; break; }
      }
      if (ph.upload && offset >= size) {
        ph.done = true;
        onProgress(size);
        return;
      }
    }
    throw new Failure('retry');
  }

  // ---- sending a draft ----

  var sending = false;

  // send uploads the draft's photos and posts it; resolves to the server's answer {id, number, url}.
  async function send(d, onProgress) {
    if (navigator.onLine === false) throw new Failure('retry');
    for (var attempt = 0; attempt < 2; attempt++) {
      var total = d.photos.length;
      for (var i = 0; i < total; i++) {
        var ph = d.photos[i];
        if (ph.done && ph.upload) continue;
        await uploadPhoto(ph, function (n) { if (onProgress) onProgress(i + 1, total, n, ph.blob.size); });
        await putDraft(d).catch(function () {});
      }
      var body = new URLSearchParams();
      Object.keys(d.fields).forEach(function (k) {
        var v = d.fields[k];
        (Array.isArray(v) ? v : [v]).forEach(function (x) { body.append(k, x); });
      });
      body.set('client_key', d.key);
      d.photos.forEach(function (p) { body.append('uploads', p.upload); });
      var res = await request('POST', '/grid/report', {
        body: body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }
      });
      if (signedOut(res)) throw new Failure('login');
      if (res.status === 200 || res.status === 201) {
        var out = await res.json().catch(function () { return null; });
        if (out && out.number) return out;
        throw new Failure('retry');
      }
      if (res.status === 422) {
        var errs = await errorsOf(res);
        var lost = errs.some(function (e) { return e.code === 'upload_unknown' || e.code === 'upload_incomplete'; });
        if (lost && attempt === 0) { // an upload expired on the server: send the photos again
          d.photos.forEach(function (p) { p.upload = null; p.done = false; });
          continue;
        }
        throw new Failure('invalid', errs);
      }
      throw new Failure('retry'); // 5xx, 404 of a lost permission, anything else: keep it
    }
    throw new Failure('retry');
  }

  // flush sends every queued draft of this account, one at a time.
  async function flush(manual) {
    if (sending) return;
    sending = true;
    try {
      var list = await drafts();
      for (var i = 0; i < list.length; i++) {
        var d = list[i];
        if (d.state === 'invalid' && !manual) continue;
        try {
          var out = await send(d);
          await deleteDraft(d.key);
          say(fmt(M.sent, out.number), 'success', { href: out.url, text: M.view });
        } catch (f) {
          if (!(f instanceof Failure)) throw f;
          if (f.kind === 'invalid') {
            d.state = 'invalid';
            d.errors = f.errors;
            await putDraft(d);
          } else if (f.kind === 'login') {
            say(M.login, 'warning');
            break;
          } else {
            await putDraft(d).catch(function () {});
            break; // offline: the rest waits too
          }
        }
      }
    } catch (e) {
      // IndexedDB trouble: nothing to do but try again later
    } finally {
      sending = false;
      renderOutbox();
    }
  }

  // ---- the outbox list ----

  var outbox = doc.getElementById('outbox');
  var outboxCount = doc.getElementById('outbox-count');
  var outboxList = doc.getElementById('outbox-list');

  function renderOutbox() {
    if (!outbox) return Promise.resolve();
    return drafts().then(function (list) {
      if (outboxCount) outboxCount.textContent = String(list.length);
      outbox.hidden = list.length === 0;
      if (!outboxList) return;
      outboxList.textContent = '';
      list.forEach(function (d) {
        var li = el('li', 'outbox-item' + (d.state === 'invalid' ? ' outbox-invalid' : ''));
        var when = new Date(d.created);
        var hh = ('0' + when.getHours()).slice(-2) + ':' + ('0' + when.getMinutes()).slice(-2);
        li.appendChild(el('span', 'outbox-label', (d.label || '—') + ' · ' + hh +
          (d.photos.length ? ' · ' + fmt(M.photos, d.photos.length) : '')));
        li.appendChild(el('span', 'badge ' + (d.state === 'invalid' ? 'badge-danger' : 'badge-warn'),
          d.state === 'invalid' ? M.needsFix : M.waiting));
        var acts = el('span', 'outbox-actions');
        if (form) {
          var edit = el('button', 'btn-quiet', M.edit);
          edit.type = 'button';
          edit.addEventListener('click', function () { loadDraft(d.key); });
          acts.appendChild(edit);
        } else {
          var a = el('a', 'button', M.edit);
          a.href = '/grid/report#draft=' + encodeURIComponent(d.key);
          acts.appendChild(a);
        }
        var del = el('button', 'btn-quiet danger', M['delete']);
        del.type = 'button';
        del.addEventListener('click', function () {
          if (!window.confirm(M.confirmDelete)) return;
          d.photos.forEach(function (p) {
            if (p.upload) request('DELETE', uploadURL(p.upload)).catch(function () {});
          });
          deleteDraft(d.key).then(renderOutbox);
        });
        acts.appendChild(del);
        li.appendChild(acts);
        outboxList.appendChild(li);
      });
    }).catch(function () {});
  }

  var sendBtn = doc.getElementById('outbox-send');
  if (sendBtn) sendBtn.addEventListener('click', function () { flush(true); });

  window.addEventListener('online', function () { flush(false); });
  doc.addEventListener('visibilitychange', function () { if (!doc.hidden) flush(false); });
  setInterval(function () { if (navigator.onLine !== false) flush(false); }, 60000);

  if (!form) { // the home page: show and send the outbox
    renderOutbox().then(function () { flush(false); });
    return;
  }

  // ---- the report form ----

  form.classList.add('is-enhanced');
  var photoInput = doc.getElementById('photos');
  var photoList = doc.getElementById('photo-list');
  var keyInput = form.querySelector('input[name="client_key"]');
  var photos = []; // {blob, url}

  function fieldBox(name) {
    switch (name) {
      case 'category': return doc.getElementById('category');
      case 'photos': return photoList;
      case 'position': return doc.getElementById('locate-status');
      case 'household': return doc.getElementById('household-box');
      default: return form.querySelector('[name="' + name + '"]:not([type="hidden"])') || null;
    }
  }
  function clearErrors() {
    var old = form.querySelectorAll('.js-error');
    for (var i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
    var inv = form.querySelectorAll('[aria-invalid="true"]');
    for (var j = 0; j < inv.length; j++) inv[j].removeAttribute('aria-invalid');
    var server = form.querySelectorAll('.field-error');
    for (var k = 0; k < server.length; k++) server[k].hidden = true;
  }
  function showErrors(errs) {
    clearErrors();
    var general = [];
    var first = null;
    errs.forEach(function (e) {
      var box = fieldBox(e.field);
      if (!box) { general.push(e.message); return; }
      var p = el('p', 'field-error js-error', e.message);
      box.setAttribute('aria-invalid', 'true');
      box.parentNode.insertBefore(p, box.nextSibling);
      if (!first) first = box;
    });
    say([M.invalid].concat(general).join(' '), 'error');
    if (first && first.scrollIntoView) first.scrollIntoView({ block: 'center' });
  }

  // photos: scaled down, shown as thumbnails, kept in memory until the draft is saved
  function shrink(file) {
    return new Promise(function (resolve) {
      if (file.type && !/^image\//.test(file.type)) { resolve({ error: M.photoNotImage }); return; }
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var w = img.naturalWidth, h = img.naturalHeight;
        var s = Math.min(1, cfg.maxSide / Math.max(w, h, 1));
        var c = doc.createElement('canvas');
        c.width = Math.max(1, Math.round(w * s));
        c.height = Math.max(1, Math.round(h * s));
        c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(url);
        c.toBlob(function (b) {
          var keep = /^image\/(jpeg|png|webp)$/.test(file.type) && s === 1 && (!b || b.size >= file.size);
          var out = keep || !b ? file : b;
          if (out.size > cfg.maxPhoto) resolve({ error: M.photoTooBig });
          else resolve({ blob: out });
        }, 'image/jpeg', cfg.quality);
      };
      img.onerror = function () { URL.revokeObjectURL(url); resolve({ error: M.photoNotImage }); };
      img.src = url;
    });
  }
  function renderPhotos() {
    photoList.textContent = '';
    photos.forEach(function (ph, i) {
      var li = el('li', 'photo-item');
      var img = el('img');
      img.src = ph.url;
      img.alt = fmt(M.photo, i + 1);
      li.appendChild(img);
      var rm = el('button', 'photo-remove', M.remove);
      rm.type = 'button';
      rm.addEventListener('click', function () {
        URL.revokeObjectURL(ph.url);
        photos.splice(photos.indexOf(ph), 1);
        renderPhotos();
      });
      li.appendChild(rm);
      photoList.appendChild(li);
    });
  }
  function addPhoto(blob) {
    photos.push({ blob: blob, url: URL.createObjectURL(blob) });
  }
  // processing is the shrinking of the photos just taken: a send waits for
  // it, so a photo never misses its report (or lands in the next one)
  var processing = null;
  if (photoInput) {
    photoInput.addEventListener('change', async function () {
      var files = Array.prototype.slice.call(photoInput.files || []);
      photoInput.value = '';
      if (!files.length) return;
      say(M.processing);
      var problems = [];
      var finished;
      var mine = processing = new Promise(function (r) { finished = r; });
      try {
        for (var i = 0; i < files.length; i++) {
          if (photos.length >= cfg.maxPhotos) { problems.push(M.tooManyPhotos); break; }
          var r = await shrink(files[i]);
          if (r.error) problems.push(r.error); else addPhoto(r.blob);
        }
      } finally {
        finished();
        if (processing === mine) processing = null;
      }
      renderPhotos();
      say(problems.join(' '), problems.length ? 'error' : null);
      var cat = doc.getElementById('category');
      if (!problems.length && cat && !form.querySelector('input[name="category"]:checked') && cat.scrollIntoView) {
        cat.scrollIntoView({ block: 'start', behavior: 'smooth' }); // the second tap: the category
      }
    });
  }

  // position: the phone's own (WGS-84), or typed in under "manual"
  var locateBtn = doc.getElementById('locate');
  var locateStatus = doc.getElementById('locate-status');
  // positionSet tells the map picker (grid-pick.js) that the position fields were set from here:
  // why is 'gps', 'draft' (a draft loaded) or 'reset' (an empty form for the next report).
  function positionSet(why) {
    if (typeof window.CustomEvent === 'function') form.dispatchEvent(new CustomEvent('report:position', { detail: { why: why } }));
  }
  function locate(quiet) {
    if (!navigator.geolocation) return;
    if (window.isSecureContext === false) {
      if (!quiet) locateStatus.textContent = M.locateInsecure;
      return;
    }
    locateStatus.textContent = M.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector('[name="lat"]').value = pos.coords.latitude.toFixed(6);
      form.querySelector('[name="lon"]').value = pos.coords.longitude.toFixed(6);
      var coords = form.querySelector('[name="coords"]');
      if (coords) coords.value = 'wgs84';
      locateStatus.textContent = fmt(M.located, Math.round(pos.coords.accuracy || 0));
      positionSet('gps');
    }, function () {
      locateStatus.textContent = quiet ? '' : M.locateFailed;
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }
  if (locateBtn && navigator.geolocation) {
    locateBtn.hidden = false;
    locateBtn.addEventListener('click', function () { locate(false); });
    if (navigator.permissions && navigator.permissions.query) {
      navigator.permissions.query({ name: 'geolocation' }).then(function (st) {
        if (st.state === 'granted' && !form.querySelector('[name="lat"]').value) locate(true);
      }).catch(function () {});
    }
  }

  // a corrected field loses its message
  form.addEventListener('change', function (e) {
    var name = e.target.name === 'photos' ? 'photos' : e.target.name;
    var box = fieldBox(name);
    if (!box) return;
    box.removeAttribute('aria-invalid');
    var next = box.nextElementSibling;
    while (next && next.classList.contains('field-error')) {
      var gone = next;
      next = next.nextElementSibling;
      if (gone.classList.contains('js-error')) gone.parentNode.removeChild(gone); else gone.hidden = true;
    }
  });

  // no accidental sending from the keyboard's Enter in a one-line field
  form.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && e.target.tagName === 'INPUT' && e.target.type !== 'submit') {
      e.preventDefault();
      e.target.blur();
    }
  });
  // the household search runs as you type (htmx); its form would reload the page and lose the photos
  var hsearch = doc.getElementById('household-search');
  if (hsearch && window.htmx) hsearch.addEventListener('submit', function (e) { e.preventDefault(); });

  function fields() {
    var fd = new FormData(form);
    var out = {};
    fd.forEach(function (v, k) {
      if (k === 'photos' || k === 'csrf_token' || k === 'client_key' || typeof v !== 'string') return;
      if (k in out) out[k] = [].concat(out[k], v); else out[k] = v;
    });
    return out;
  }
  function chosenLabel() {
    var r = form.querySelector('input[name="category"]:checked');
    if (!r) return '';
    var l = r.closest('label');
    return l ? l.textContent.trim() : r.value;
  }
  function setField(name, value) {
    var els = doc.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < els.length; i++) {
      var e = els[i];
      if (e.form !== form || e.type === 'file') continue;
      if (e.type === 'radio' || e.type === 'checkbox') e.checked = value != null && e.value === String(value);
      else e.value = value == null ? '' : value;
    }
  }
  function freshForm() {
    photos.forEach(function (p) { URL.revokeObjectURL(p.url); });
    photos = [];
    renderPhotos();
    ['category', 'description', 'address', 'lat', 'lon', 'household'].forEach(function (n) { setField(n, null); });
    setField('coords', 'wgs84'); // a point picked on GCJ-02 tiles set it: typed coordinates are WGS-84 again
    ['patrol', 'resident'].forEach(function (n) { // a visit's report is sent once
      var h = form.querySelector('input[type="hidden"][name="' + n + '"]');
      if (h) h.parentNode.removeChild(h);
    });
    if (locateStatus) locateStatus.textContent = '';
    keyInput.value = uuid();
    clearErrors();
    positionSet('reset');
  }

  async function loadDraft(key) {
    var d = await getDraft(key).catch(function () { return null; });
    if (!d || d.user !== cfg.user) return;
    freshForm();
    Object.keys(d.fields).forEach(function (k) {
      var v = d.fields[k];
      if (k === 'patrol' || k === 'resident') {
        var h = el('input');
        h.type = 'hidden'; h.name = k; h.value = v;
        form.appendChild(h);
        return;
      }
      setField(k, Array.isArray(v) ? v[0] : v);
    });
    keyInput.value = d.key;
    positionSet('draft');
    d.photos.forEach(function (p) { addPhoto(p.blob); });
    renderPhotos();
    say(M.loaded, 'info');
    if (d.errors && d.errors.length) showErrors(d.errors);
    if (form.scrollIntoView) form.scrollIntoView({ block: 'start' });
  }

  form.addEventListener('submit', async function (e) {
    if (e.submitter && e.submitter.getAttribute('formmethod') === 'get') return;
    e.preventDefault();
    clearErrors();
    while (processing) { say(M.processing); await processing; }
    if (!form.querySelector('input[name="category"]:checked')) {
      showErrors([{ field: 'category', message: M.needCategory }]);
      return;
    }
    var key = keyInput.value || uuid();
    var old = await getDraft(key).catch(function () { return null; });
    var d = {
      key: key, user: cfg.user, created: old ? old.created : Date.now(), label: chosenLabel(),
      fields: fields(), state: 'queued', errors: [],
      photos: photos.map(function (p, i) {
        // a corrected draft keeps the uploads of the photos it already sent
        var prev = old && old.photos[i];
        var same = prev && prev.blob && prev.blob.size === p.blob.size && prev.blob.type === p.blob.type;
        return { blob: p.blob, upload: same ? prev.upload : null, done: same ? !!prev.done : false };
      })
    };
    var stored = true;
    try { await putDraft(d); if (!(await openDB())) stored = false; } catch (err) { stored = false; }
    var btn = doc.getElementById('submit');
    if (btn) btn.disabled = true;
    if (!stored) say(M.noStorage, 'warning');
    try {
      for (var w = 0; sending && w < 100; w++) await sleep(300); // the outbox is sending: wait a little
      if (sending) throw new Failure('retry'); // still busy: this one waits its turn in the outbox
      sending = true;
      say(M.sending);
      var out = await send(d, function (i, n, sent, size) {
        say(fmt(M.uploading, i, n) + ' ' + Math.floor(100 * sent / Math.max(size, 1)) + '%');
      });
      await deleteDraft(d.key).catch(function () {});
      freshForm();
      say(fmt(M.sent, out.number), 'success', { href: out.url, text: M.view });
    } catch (f) {
      if (!(f instanceof Failure)) f = new Failure('retry');
      if (f.kind === 'invalid') {
        d.state = 'invalid';
        d.errors = f.errors;
        await putDraft(d).catch(function () {});
        showErrors(f.errors);
      } else if (stored) {
        await putDraft(d).catch(function () {});
        freshForm();
        say(f.kind === 'login' ? M.login : M.saved, 'warning');
      } else {
        say(M.retry, 'error'); // nowhere to keep it: the form stays filled
      }
    } finally {
      sending = false;
      if (btn) btn.disabled = false;
      renderOutbox();
    }
  });

  if (keyInput && !keyInput.value) keyInput.value = uuid();
  var m = /(?:^|[#&])draft=([^&]+)/.exec(location.hash);
  renderOutbox().then(function () {
    if (m) loadDraft(decodeURIComponent(m[1]));
    flush(false);
  });
})();
