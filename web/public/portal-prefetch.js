/* global window, location */
/*
 * The portal's first requests, started while its scripts are still downloading: on a slow phone
 * network each round trip costs half a second, and the record page otherwise asks for the
 * resident's details and record only after React has loaded and rendered. A plain script (the
 * page's security policy allows only the site's own files, no inline code); portal-api.ts takes
 * the answers if the signed-in session is still the one they were asked with, else asks again.
 */
(function () {
  try {
    var session = JSON.parse(sessionStorage.getItem('yifang.portal') || 'null');
    if (!session || !session.token) return;
    var headers = { accept: 'application/json', authorization: 'Bearer ' + session.token };
    var requests = {};
    var get = function (path) {
      var p = fetch(path, { headers: headers }).then(function (res) {
        return res.text().then(function (text) {
          return { ok: res.ok, status: res.status, text: text };
        });
      });
      p.catch(function () {});
      requests[path] = p;
    };
    get('/api/portal/me');
    // The record page (the portal's first page), as portal-api.ts's record() asks for it.
    var m = /^#\/portal(?:\/record)?\/?(?:\?(.*))?$/.exec(location.hash || '#/portal');
    if (m) {
      var q = new URLSearchParams(m[1] || '');
      if (!q.get('kind')) {
        var forId = q.get('for');
        get('/api/portal/me/record' + (forId ? '?' + new URLSearchParams({ for: forId }).toString() : ''));
      }
    }
    window.__portalEarly = { token: session.token, requests: requests };
  } catch (e) {
    /* no early requests: the page asks as usual */
  }
})();
