// Small progressive enhancements. Served as a file: the CSP forbids inline script.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  document.querySelectorAll("a[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });
});

// Resumable upload of a work (see src/http/api/works.rs for the protocol). The file goes up
// in chunks; after a dropped connection the script asks how much arrived and continues from
// there, so a phone on a weak network never starts over.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("upload");
  if (!box) return;
  var input = document.getElementById("upload-file");
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var findings = document.getElementById("upload-findings");
  var hidden = document.getElementById("upload-id");
  var submit = document.getElementById("work-submit");
  var csrf = box.getAttribute("data-csrf");
  var max = Number(box.getAttribute("data-max"));
  var CHUNK = 2 * 1024 * 1024;

  function say(text) { status.textContent = text; }
  function mb(n) { return (n / 1024 / 1024).toFixed(1) + " MB"; }
  function show(list, cls) {
    (list || []).forEach(function (m) {
      var li = document.createElement("li");
      li.textContent = m;
      if (cls) li.className = cls;
      findings.appendChild(li);
    });
  }
  function api(method, url, body, headers) {
    var h = { "X-CSRF-Token": csrf };
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return fetch(url, { method: method, body: body, headers: h, credentials: "same-origin" })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, status: r.status, body: j }; });
      });
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  async function send(file, upload) {
    var offset = upload.received;
    var failures = 0;
    while (offset < file.size) {
      bar.value = Math.floor(offset * 100 / file.size);
      say("正在上传：" + mb(offset) + " / " + mb(file.size));
      var res;
      try {
        res = await api("PATCH", "/api/v1/uploads/" + upload.id, file.slice(offset, offset + CHUNK),
          { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" });
      } catch (e) {
        res = { ok: false, status: 0, body: {} };
      }
      if (res.ok) {
        failures = 0;
        upload = res.body;
        offset = upload.received;
        if (upload.state !== "receiving") return upload;
        continue;
      }
      if (res.status === 413 || res.status === 404 || res.status === 403) throw res.body;
      // Network trouble or a conflict: ask where the upload stands and continue from there.
      failures += 1;
      if (failures > 30) throw { message: "网络一直不通，请稍后重新选择文件，已上传的部分会保留。" };
      say("网络不稳定，" + Math.min(failures * 2, 10) + " 秒后从 " + mb(offset) + " 处继续……");
      await sleep(Math.min(failures * 2000, 10000));
      try {
        var now = await api("GET", "/api/v1/uploads/" + upload.id);
        if (now.ok) { upload = now.body; offset = upload.received; if (upload.state !== "receiving") return upload; }
      } catch (e) { /* still offline; try again */ }
    }
    // Every byte arrived earlier but the check did not finish: ask for it.
    var last = await api("PATCH", "/api/v1/uploads/" + upload.id, new Blob([]), { "Upload-Offset": String(offset) });
    if (!last.ok) throw last.body;
    return last.body;
  }

  input.addEventListener("change", async function () {
    findings.textContent = "";
    hidden.value = "";
    say("正在准备上传……");
    var file = input.files && input.files[0];
    if (!file) return;
    if (max && file.size > max) {
      say("");
      show(["文件大小 " + mb(file.size) + "，要求小于 " + mb(max) + "：请压缩后再上传"], "error");
      return;
    }
    bar.hidden = false;
    bar.value = 0;
    submit.disabled = true;
    try {
      var started = await api("POST", "/api/v1/uploads", JSON.stringify({
        sub_project: box.getAttribute("data-project"), file_name: file.name, size_bytes: file.size,
      }), { "Content-Type": "application/json" });
      if (!started.ok) throw started.body;
      var done = await send(file, started.body);
      bar.value = 100;
      var report = done.report || {};
      if (done.verdict === "accepted") {
        hidden.value = done.id;
        say("上传完成，文件符合要求。请填写下面的信息后提交。");
        show(report.messages, "warning");
      } else {
        say("上传完成，但文件不符合要求，不能提交：");
        show(report.messages, "error");
      }
    } catch (err) {
      say("");
      show([(err && err.message) || "上传失败，请重试。"], "error");
    } finally {
      submit.disabled = false;
    }
  });
});

// A "select all on this page" box: ticks every checkbox named by its data-check-all.
document.querySelectorAll('input[data-check-all]').forEach(function (all) {
  all.addEventListener('change', function () {
    var form = all.form || document;
    form.querySelectorAll('input[type=checkbox][name="' + all.getAttribute('data-check-all') + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
});

// A form whose answer is a file made once (the one-time password sheet of an account import):
// sent with fetch so the page can say what happened; the file is saved under the name the
// server gives. An answer that is a page (the file had errors) replaces this page.
document.querySelectorAll('form[data-download]').forEach(function (form) {
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    var status = document.getElementById(form.getAttribute('data-download'));
    var button = form.querySelector('button[type=submit]');
    if (button) { button.disabled = true; }
    if (status) { status.hidden = false; status.textContent = '正在导入，请稍候…'; }
    try {
      var response = await fetch(form.action, { method: 'POST', body: new FormData(form), credentials: 'same-origin' });
      var type = response.headers.get('content-type') || '';
      if (response.ok && type.indexOf('spreadsheetml') >= 0) {
        var disposition = response.headers.get('content-disposition') || '';
        var match = /filename\*=UTF-8''([^;]+)/.exec(disposition);
        var name = match ? decodeURIComponent(match[1]) : 'accounts.xlsx';
        var url = URL.createObjectURL(await response.blob());
        var link = document.createElement('a');
        link.href = url; link.download = name; document.body.appendChild(link); link.click(); link.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        if (status) {
          status.className = 'info';
          status.textContent = '已建立 ' + (response.headers.get('x-wangju-created') || '') +
            ' 个账号，一次性密码表“' + name + '”已下载（只此一次，请妥善转交后删除）。刷新页面可看到新账号。';
        }
        form.reset();
      } else {
        var html = await response.text();
        document.open(); document.write(html); document.close();
      }
    } catch (e) {
      if (status) { status.className = 'alert'; status.textContent = '网络出错，账号未确认建立，请刷新页面查看后再试。'; }
    } finally {
      if (button) { button.disabled = false; }
    }
  });
});
