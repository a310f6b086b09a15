/* Injected by book/site-check.sh at the start of <head> of every page of a
 * copy of the site (build/book/html), and loaded by its host page. Plain
 * browser JavaScript. What it does depends on ?sc=MODE in the URL:
 *
 *   page   (a page of the site, in the host's frame) record every error,
 *          failed resource and console error or warning from the first
 *          moment, and keep what the page copies instead of writing to the
 *          clipboard, for the host to read.
 *   host   (check-host.html, run with --allow-file-access-from-files, so it
 *          can read the site's files and reach into its frames) read every
 *          page the sidebar lists, check every link (in-page, across pages,
 *          to a listing's source, to the API reference and back), then
 *          open each page as a reader would, 1280 px wide and 390 px wide,
 *          and try the sidebar, the copy buttons, the search and a link to
 *          another chapter. Writes "problem: ..." and "info: ..." lines
 *          between two marker lines, for the shell script to cut out of the
 *          DOM chromium dumps.
 *
 * Without ?sc= the script does nothing: the screenshots show the site as
 * it is. */
(function () {
  "use strict";
  var mode = new URLSearchParams(location.search).get("sc") || "";

  function oneline(s, max) {
    s = String(s).replace(/\s+/g, " ").trim();
    max = max || 200;
    return s.length > max ? s.slice(0, max - 1) + "\u2026" : s;
  }

  /* ---- in a page ------------------------------------------------------------ */
  if (mode === "page") {
    var rec = window.__site_check = { problems: [], copied: [] };
    window.addEventListener("error", function (ev) {
      var t = ev.target;
      if (t && t !== window && t.tagName) {
        rec.problems.push("resource did not load: <" + t.tagName.toLowerCase() + "> " +
          oneline(t.currentSrc || t.src || t.href || "", 120));
      } else {
        rec.problems.push("uncaught error: " + oneline(ev.message) +
          (ev.filename ? " at " + ev.filename.split("/").pop() + ":" + ev.lineno : ""));
      }
    }, true);
    window.addEventListener("unhandledrejection", function (ev) {
      rec.problems.push("unhandled promise rejection: " + oneline(ev.reason && ev.reason.stack || ev.reason));
    });
    ["error", "warn"].forEach(function (level) {
      var orig = console[level];
      console[level] = function () {
        rec.problems.push("console." + level + ": " +
          oneline(Array.prototype.map.call(arguments, String).join(" ")));
        return orig.apply(console, arguments);
      };
    });
    /* The clipboard, as the page sees it: what it writes is kept here. */
    var fake = { writeText: function (text) { rec.copied.push(String(text)); return Promise.resolve(); } };
    try {
      Object.defineProperty(navigator, "clipboard", { value: fake, configurable: true });
    } catch (e) {
      rec.problems.push("site-check: cannot stand in for the clipboard: " + e);
    }
    return;
  }
  /* ---- for a screenshot ------------------------------------------------------------
   * shot-listing: the page from its first listing on (what comes before it
   * is hidden, but the headings above it and the paragraph just before it),
   * since a headless screenshot cannot be taken further down a page.
   * shot-menu: the page with its Contents button pressed (on a phone). */
  if (mode === "shot-listing" || mode === "shot-menu") {
    document.addEventListener("DOMContentLoaded", function () {
      if (mode === "shot-menu") {
        var menu = document.getElementById("menu");
        if (menu) menu.click();
        return;
      }
      var el = document.querySelector("main div.listing-source");
      if (!el) return;
      var keep_prev = el.previousElementSibling;
      for (var node = el; node && node.tagName !== "MAIN"; node = node.parentElement) {
        for (var sib = node.previousElementSibling; sib; sib = sib.previousElementSibling) {
          if (sib === keep_prev || /^H[1-6]$/.test(sib.tagName) || sib.classList.contains("pager")) continue;
          sib.style.display = "none";
        }
      }
    });
    return;
  }
  if (mode !== "host") return;

  /* ---- the host ------------------------------------------------------------- */
  var lines = [];
  function problem(s) { lines.push("problem: " + oneline(s, 400)); }
  function info(s) { lines.push("info: " + oneline(s, 400)); }
  function sleep(ms) { return new Promise(function (ok) { setTimeout(ok, ms); }); }

  var cache = Object.create(null);
  /* The text of a file of the site (or beside it), or null if it is not there. */
  function fetch_text(url) {
    url = new URL(url, location.href).href.replace(/[?#].*$/, "");
    if (!(url in cache)) {
      cache[url] = new Promise(function (ok) {
        var x = new XMLHttpRequest();
        x.open("GET", url);
        x.onload = function () { ok(x.responseText.length ? x.responseText : null); };
        x.onerror = function () { ok(null); };
        x.send();
      });
    }
    return cache[url];
  }
  function fetch_doc(url) {
    return fetch_text(url).then(function (text) {
      return text === null ? null : new DOMParser().parseFromString(text, "text/html");
    });
  }

  var frame = document.createElement("iframe");
  frame.style.cssText = "border:0;display:block;width:1280px;height:900px";

  /* Open url in the frame, width w; resolves with its window after load. */
  function open(url, w, h) {
    frame.style.width = w + "px";
    frame.style.height = (h || 900) + "px";
    return new Promise(function (ok, fail) {
      var timer = setTimeout(function () { fail(new Error("did not load in 15 s: " + url)); }, 15000);
      frame.onload = function () {
        clearTimeout(timer);
        setTimeout(function () { ok(frame.contentWindow); }, 150);
      };
      frame.src = url;
    });
  }
  function with_sc(page) {
    var at = page.indexOf("#");
    var base = at < 0 ? page : page.slice(0, at), hash = at < 0 ? "" : page.slice(at);
    return base + "?sc=page" + hash;
  }
  /* Wait for cond() to be true, up to ms. */
  async function until(cond, ms) {
    for (var t = 0; t < ms; t += 50) {
      if (cond()) return true;
      await sleep(50);
    }
    return cond();
  }

  /* The site's own pages: the first link of each entry of the sidebar. */
  async function list_pages() {
    var index = await fetch_doc("index.html");
    if (!index) { problem("no index.html"); return []; }
    var pages = [];
    index.querySelectorAll("#sidebar ol.toc > li").forEach(function (li) {
      var a = li.querySelector("a[href]");
      var href = a && a.getAttribute("href").replace(/#.*$/, "");
      pages.push(href || "index.html");
    });
    if (pages[0] !== "index.html") problem("the sidebar's first entry is " + pages[0] + ", not index.html");
    return pages;
  }

  /* ---- every link, read from the files ------------------------------------- */
  async function check_links(pages, docs) {
    var n = { inpage: 0, across: 0, source: 0, api: 0, man: 0, web: 0 };
    var api = [];   /* [page, section id, url of the API page] */
    for (var p = 0; p < pages.length; p++) {
      var page = pages[p], doc = docs[page];
      var links = doc.querySelectorAll("a[href]");
      var seen_bad = 0;
      for (var i = 0; i < links.length; i++) {
        var a = links[i], href = a.getAttribute("href");
        var bad = null;
        if (/^https?:/.test(href)) {
          if (a.classList.contains("manpage")) {
            n.man++;
            if (!/^https:\/\/man7\.org\/linux\/man-pages\/man[1-8]\/[\w.+-]+\.[1-8][a-z]*\.html$/.test(href)) {
              bad = "a man-page link of an unexpected form: " + href;
            }
          } else {
            n.web++;
          }
        } else if (/^(mailto|data):/.test(href)) {
          continue;
        } else if (href.charAt(0) === "#") {
          n.inpage++;
          var id = decodeURIComponent(href.slice(1));
          if (id && !doc.getElementById(id)) bad = "a link to a missing target: " + href;
        } else {
          var file = href.replace(/#.*$/, ""), hash = href.indexOf("#") >= 0 ? href.replace(/^[^#]*#/, "") : "";
          if (docs[file]) {
            n.across++;
            if (hash && !docs[file].getElementById(decodeURIComponent(hash))) {
              bad = "a link to a section that is not on " + file + ": " + href;
            }
          } else if (/^src\//.test(file)) {
            n.source++;
            if ((await fetch_text(file)) === null) bad = "a listing's source that is not there: " + href;
          } else if (/docs\/html\/[^/]+\.html$/.test(file)) {
            n.api++;
            var target = await fetch_doc(file);
            if (!target) bad = "a link to an API page that is not there: " + href;
            else {
              var sec = a.closest("section[id]");
              api.push([page, sec ? sec.id : "", new URL(file, location.href).href, target]);
            }
          } else {
            var other = await fetch_text(file);
            if (other === null) bad = "a link to a file that is not there: " + href;
          }
        }
        if (bad) {
          if (++seen_bad <= 10) problem(page + ": " + bad + " (text \"" + oneline(a.textContent, 40) + "\")");
        }
      }
      if (seen_bad > 10) problem(page + ": ... and " + (seen_bad - 10) + " more bad links");
    }
    info("links: " + n.inpage + " in-page, " + n.across + " to another page of the book, " +
      n.source + " to a listing's source, " + n.api + " to the API reference, " + n.man +
      " to man pages, " + n.web + " to other sites");
    if (!n.source) problem("no listing links to its source file");
    if (!n.man) problem("no man-page link anywhere");
    return api;
  }

  /* The API reference links back to the section that links to it. */
  async function check_api(api, docs) {
    var pages_checked = Object.create(null), both = 0;
    for (var i = 0; i < api.length; i++) {
      var url = api[i][2], target = api[i][3];
      if (url in pages_checked) continue;
      pages_checked[url] = true;
      var back = target.querySelector("dl.section a[href*='book/html/']");
      var name = url.split("/").pop();
      if (!back) {
        /* A page that is no exercise's contract (trace.h, an index) need not. */
        if (/_8h\.html$/.test(name)) problem("the API page " + name + " has no link back to the book");
        continue;
      }
      var to = new URL(back.getAttribute("href"), url);
      var file = to.pathname.split("/").pop(), id = decodeURIComponent(to.hash.slice(1));
      if (!docs[file] || !docs[file].getElementById(id)) {
        problem("the API page " + name + " links back to " + file + "#" + id + ", which is not in the book");
        continue;
      }
      var from_there = api.some(function (a) { return a[2] === url && a[0] === file && a[1] === id; });
      if (!from_there) {
        problem("the API page " + name + " links back to " + file + "#" + id +
          ", but that section has no link to it");
        continue;
      }
      both++;
    }
    info("API reference: " + both + " contract page(s) linked from their exercise's section and back");
    if (!both) problem("no exercise section and API page link each other");
  }

  /* ---- each page as a reader sees it ------------------------------------------ */
  async function check_page(page, docs, pages) {
    var win;
    try { win = await open(with_sc(page), 1280, 900); } catch (e) { problem(page + ": " + e.message); return; }
    var d = win.document, rec = win.__site_check;
    if (!rec) { problem(page + ": the check was not injected"); return; }
    await until(function () { return d.fonts.status === "loaded"; }, 3000);
    /* Pictures, and where everything came from. */
    var imgs = d.images, broken = 0;
    for (var i = 0; i < imgs.length; i++) {
      if (!imgs[i].complete || !imgs[i].naturalWidth) {
        broken++;
        problem(page + ": picture did not load: " + imgs[i].getAttribute("src"));
      }
    }
    var site = new URL(".", frame.src).href, docs_dir = new URL("../../docs/", frame.src).href;
    win.performance.getEntriesByType("resource").forEach(function (e) {
      if (e.name.indexOf(site) !== 0 && e.name.indexOf(docs_dir) !== 0) {
        problem(page + ": loads from outside the site: " + e.name);
      }
    });
    /* The sidebar knows the page, and follows the reader. */
    var cur = d.querySelectorAll("#sidebar li.current");
    if (cur.length !== 1) problem(page + ": the sidebar marks " + cur.length + " pages as the current one");
    var entries = d.querySelectorAll("#sidebar ol.toc > li").length;
    if (entries !== pages.length) problem(page + ": the sidebar lists " + entries + " pages, not " + pages.length);
    var secs = d.querySelectorAll("main section.level2[id]");
    if (secs.length) {
      var last = secs[Math.floor(secs.length / 2)];
      win.scrollTo(0, last.getBoundingClientRect().top + win.scrollY - 20);
      var is_marked = function () {
        var a = d.querySelector("#sidebar a[aria-current='location']");
        return a && a.getAttribute("href") === "#" + last.id;
      };
      /* A headless frame may deliver the scroll event late: then send one. */
      var marked = await until(is_marked, 3000);
      if (!marked) {
        win.dispatchEvent(new win.Event("scroll"));
        marked = await until(is_marked, 500);
      }
      if (!marked) {
        var a = d.querySelector("#sidebar a[aria-current='location']");
        problem(page + ": scrolled to #" + last.id + ", the sidebar marks " + (a ? a.getAttribute("href") : "nothing"));
      }
      win.scrollTo(0, 0);
    }
    /* A copy button on every block of code; it copies what the block shows. */
    var blocks = d.querySelectorAll("main div.sourceCode, main pre:not(div.sourceCode pre)").length;
    var buttons = d.querySelectorAll("main button.copy");
    if (buttons.length !== blocks) problem(page + ": " + blocks + " code blocks but " + buttons.length + " copy buttons");
    var tried = 0;
    for (var b = 0; b < buttons.length && tried < 2; b++) {
      var btn = buttons[b];
      var wrap = btn.closest(".code-wrap") || btn.parentElement.nextElementSibling;
      var pre = wrap && wrap.querySelector("pre");
      if (!pre) continue;
      var is_console = pre.classList.contains("console");
      if (tried === 1 && !is_console) continue;      /* one listing, then one run */
      var before = rec.copied.length;
      btn.click();
      var got = await until(function () { return rec.copied.length > before; }, 2000);
      await sleep(50);
      var text = got ? rec.copied[rec.copied.length - 1] : null;
      var want = pre.textContent.replace(/\n$/, "");
      if (is_console) {
        want = want.split("\n").filter(function (l) { return l.indexOf("$ ") === 0; })
          .map(function (l) { return l.slice(2); }).join("\n");
      }
      if (text === null) problem(page + ": the copy button copied nothing");
      else if (text !== want) problem(page + ": the copy button copied \"" + oneline(text, 60) + "\", not \"" + oneline(want, 60) + "\"");
      else if (!/Copied/.test(btn.textContent)) problem(page + ": the copy button does not say it copied (\"" + btn.textContent + "\")");
      tried++;
    }
    rec.problems.forEach(function (p) { problem(page + ": " + p); });
    return { images: imgs.length, broken: broken, blocks: blocks };
  }

  /* At 390 px: nothing scrolls sideways; the Contents button opens the sidebar. */
  async function check_phone(page, try_menu) {
    var win;
    try { win = await open(with_sc(page), 390, 844); } catch (e) { problem(page + " (phone): " + e.message); return; }
    var d = win.document, de = d.documentElement;
    if (de.scrollWidth > de.clientWidth) {
      var worst = null;
      d.querySelectorAll("body *").forEach(function (el) {
        var r = el.getBoundingClientRect();
        if (r.right > de.clientWidth + 0.5 && (!worst || r.width > worst.w)) worst = { el: el, w: r.width };
      });
      problem(page + ": on a 390 px phone the page scrolls sideways (" + de.scrollWidth + " px wide)" +
        (worst ? "; e.g. <" + worst.el.tagName.toLowerCase() + " class=\"" + worst.el.className + "\"> \"" +
          oneline(worst.el.textContent, 50) + "\"" : ""));
    }
    if (try_menu) {
      var side = d.getElementById("sidebar"), menu = d.getElementById("menu");
      var shown = function () { return win.getComputedStyle(side).display !== "none"; };
      if (shown()) problem(page + " (phone): the sidebar shows before the Contents button is pressed");
      menu.click();
      if (!(await until(shown, 1000))) problem(page + " (phone): the Contents button does not open the sidebar");
      else {
        var r = side.getBoundingClientRect();
        if (r.width < 300 || r.height < 300) problem(page + " (phone): the open sidebar is only " + r.width + " x " + r.height + " px");
        if (!side.querySelector("li.current a[aria-current='page']")) problem(page + " (phone): the open sidebar does not mark the page");
      }
      menu.click();
      if (!(await until(function () { return !shown(); }, 1000))) problem(page + " (phone): the Contents button does not close the sidebar");
    }
    win.__site_check.problems.forEach(function (p) { problem(page + " (phone): " + p); });
  }

  /* For each page, a word that only it uses (the one it uses most). */
  function words_to_find(pages, docs) {
    var per = pages.map(function (p) {
      var text = Array.prototype.map.call(docs[p].querySelectorAll("main > section"),
        function (s) { return s.textContent; }).join(" ").toLowerCase();
      var count = Object.create(null);
      (text.match(/[a-z]{7,}/g) || []).forEach(function (w) { count[w] = (count[w] || 0) + 1; });
      return count;
    });
    return pages.map(function (p, i) {
      var best = null;
      Object.keys(per[i]).forEach(function (w) {
        for (var j = 0; j < per.length; j++) if (j !== i && per[j][w]) return;
        if (!best || per[i][w] > per[i][best]) best = w;
      });
      return best;
    });
  }

  async function check_search(pages, docs) {
    var words = words_to_find(pages, docs), found = [];
    var win;
    try { win = await open(with_sc("index.html"), 1280, 900); } catch (e) { problem("search: " + e.message); return; }
    var d = win.document, input = d.getElementById("search-input"), res = d.getElementById("search-results");
    if (!input || !res) { problem("search: no search box on index.html"); return; }
    for (var i = 0; i < pages.length; i++) {
      var w = words[i];
      if (!w) { if (i > 0) problem("search: no word is used only on " + pages[i]); continue; }
      input.focus();
      input.value = w;
      input.dispatchEvent(new win.Event("input", { bubbles: true }));
      var ok = await until(function () {
        return !res.hidden && res.textContent.indexOf(w) >= 0 && res.querySelector("p");
      }, 4000);
      var hrefs = Array.prototype.map.call(res.querySelectorAll("li a"), function (a) { return a.getAttribute("href"); });
      var target = pages[i] === "index.html" ? /^(index\.html)?#/ : new RegExp("^" + pages[i].replace(/\./g, "\\.") + "#");
      if (!ok || !hrefs.some(function (h) { return target.test(h); })) {
        problem("search: \"" + w + "\" (used only on " + pages[i] + ") finds " +
          (hrefs.length ? hrefs.slice(0, 3).join(", ") : "nothing"));
      } else {
        found.push(w + " \u2192 " + pages[i]);
      }
    }
    win.__site_check.problems.forEach(function (p) { problem("index.html (search): " + p); });
    /* Enter opens the first result. */
    var last = words[words.length - 1];
    if (last) {
      input.value = last;
      input.dispatchEvent(new win.Event("input", { bubbles: true }));
      await until(function () { return res.querySelector("li a"); }, 3000);
      var first = res.querySelector("li a");
      var loaded = new Promise(function (ok) { frame.onload = function () { ok(true); }; setTimeout(function () { ok(false); }, 8000); });
      d.getElementById("search").requestSubmit();
      if (!(await loaded)) problem("search: Enter did not open the first result (" + (first && first.getAttribute("href")) + ")");
    }
    info("search found a word of each page: " + found.join(", "));
  }

  /* A link from one chapter to a section of another lands there. */
  async function check_cross_link(pages, docs) {
    var pick = null;
    for (var p = pages.length - 1; p > 0 && !pick; p--) {
      var links = docs[pages[p]].querySelectorAll("main section a[href*='.html#']");
      for (var i = 0; i < links.length && !pick; i++) {
        var href = links[i].getAttribute("href"), file = href.replace(/#.*$/, "");
        if (file !== pages[p] && docs[file] && file !== "index.html") pick = { from: pages[p], href: href, index: i };
      }
    }
    if (!pick) { problem("no link from one chapter to a section of another"); return; }
    var win;
    try { win = await open(with_sc(pick.from), 1280, 900); } catch (e) { problem(e.message); return; }
    var a = win.document.querySelectorAll("main section a[href*='.html#']")[pick.index];
    var landed = new Promise(function (ok) { frame.onload = function () { ok(true); }; setTimeout(function () { ok(false); }, 8000); });
    a.scrollIntoView();
    a.click();
    if (!(await landed)) { problem("the link " + pick.href + " on " + pick.from + " went nowhere"); return; }
    await sleep(300);
    var w2 = frame.contentWindow, id = decodeURIComponent(pick.href.replace(/^[^#]*#/, ""));
    var file = w2.location.pathname.split("/").pop();
    var el = w2.document.getElementById(id);
    var top = el ? Math.round(el.getBoundingClientRect().top) : null;
    if (file !== pick.href.replace(/#.*$/, "") || w2.location.hash !== "#" + pick.href.replace(/^[^#]*#/, "")) {
      problem("the link " + pick.href + " on " + pick.from + " opened " + file + w2.location.hash);
    } else if (!el || top < -5 || top > 200) {
      problem("the link " + pick.href + " on " + pick.from + " opened the page, but #" + id + " is " +
        (el ? top + " px from the top" : "not on it"));
    } else {
      info("a link from " + pick.from + " to " + pick.href + " lands there (" + top + " px from the top)");
    }
  }

  /* A listing's source link leads to the file the listing was cut from. */
  async function check_listing_source(pages, docs) {
    for (var p = 1; p < pages.length; p++) {
      var label = docs[pages[p]].querySelector("div.listing-source a.source-file");
      if (!label) continue;
      var code = label.closest("div.listing-source").nextElementSibling;
      var first = code ? code.textContent.split("\n").filter(function (l) { return l.trim(); })[0] : null;
      var text = await fetch_text(label.getAttribute("href"));
      if (text === null) problem(pages[p] + ": the first listing's source " + label.getAttribute("href") + " is not there");
      else if (!first || text.indexOf(first.trim()) < 0) {
        problem(pages[p] + ": the first listing's source " + label.getAttribute("href") +
          " does not hold its first line \"" + oneline(first || "", 60) + "\"");
      } else {
        info("the first listing of " + pages[p] + " is in " + label.getAttribute("href") + " (" +
          oneline(label.parentElement.textContent, 80) + ")");
      }
      return;
    }
    problem("no listing says which file it comes from");
  }

  async function main() {
    var pages = await list_pages();
    var docs = Object.create(null);
    for (var i = 0; i < pages.length; i++) {
      docs[pages[i]] = await fetch_doc(pages[i]);
      if (!docs[pages[i]]) { problem("the sidebar lists " + pages[i] + ", which is not there"); return; }
    }
    info(pages.length + " pages: " + pages.join(" "));
    var api = await check_links(pages, docs);
    await check_api(api, docs);
    await check_listing_source(pages, docs);
    var images = 0, blocks = 0;
    for (i = 0; i < pages.length; i++) {
      var r = await check_page(pages[i], docs, pages);
      if (r) { images += r.images; blocks += r.blocks; }
      await check_phone(pages[i], i === 1);
    }
    info(images + " picture(s), " + blocks + " code block(s) with a copy button");
    await check_search(pages, docs);
    await check_cross_link(pages, docs);
  }

  function finish() {
    var bad = lines.filter(function (l) { return l.indexOf("problem:") === 0; }).length;
    lines.push(bad ? "FAIL " + bad : "OK");
    var pre = document.createElement("pre");
    pre.id = "site-check-result";
    pre.textContent = "SC-" + "BEGIN\n" + lines.join("\n") + "\nSC-" + "END";
    document.body.appendChild(pre);
    frame.remove();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.body.appendChild(frame);
    main().catch(function (e) { problem("the check itself failed: " + (e && e.stack || e)); }).then(finish);
  });
})();
