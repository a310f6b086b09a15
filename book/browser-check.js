/* Injected by book/browser-check.sh at the very start of <head> of a copy of
 * the HTML book, as <script src="browser-check.js">. Plain browser
 * JavaScript, no library. What it does depends on ?bc=MODE in the page URL:
 *
 *   check       record errors from the start; after load, check every
 *               picture loaded and every internal link has its target, then
 *               write the result into <pre id="browser-check-result">.
 *   phone-host  (on an empty page) load the book at ?bc=phone in a 390 x 844
 *               frame and write what that frame reports.
 *   phone       (inside that frame) report whether the page scrolls sideways
 *               and, if it does, the widest element that sticks out.
 *   colors      report the text, link and background colours and whether the
 *               dark preference is on (run once light, once dark).
 *   timeline    leave only the book's first picture on the page, for a
 *               screenshot of it.
 *
 * Result lines are "problem: ...", "info: ..." and "picture: HEIGHT ...",
 * between two marker lines, so the shell script can cut them out of the
 * DOM that chromium dumps. Without ?bc= the script does nothing. */
(function () {
  "use strict";
  var mode = new URLSearchParams(location.search).get("bc") || "";
  if (!mode) return;

  var problems = [];
  var failed_urls = Object.create(null);   /* reported by the error event */
  var infos = [];
  var MARK_BEGIN = "BC-" + "BEGIN", MARK_END = "BC-" + "END";
  var PHONE_W = 390, PHONE_H = 844;

  /* One line, not too long: the shell script prints it as it is. */
  function oneline(s, max) {
    s = String(s).replace(/\s+/g, " ").trim();
    max = max || 240;
    return s.length > max ? s.slice(0, max - 1) + "\u2026" : s;
  }

  function describe_url(u) {
    u = String(u || "");
    if (u.indexOf("data:") === 0) {
      return u.slice(0, u.indexOf(",") >= 0 ? Math.min(u.indexOf(","), 40) : 40) +
        " (embedded, " + u.length + " chars)";
    }
    return oneline(u, 120);
  }

  /* Where an element sits in the book: the nearest heading before it. */
  function near(el) {
    var heads = document.querySelectorAll("h1, h2, h3, h4, h5, h6");
    var best = null;
    for (var i = 0; i < heads.length; i++) {
      var pos = heads[i].compareDocumentPosition(el);
      if (heads[i] === el || (pos & Node.DOCUMENT_POSITION_FOLLOWING)) {
        best = heads[i];
      } else {
        break;
      }
    }
    return best ? " (under \"" + oneline(best.textContent, 60) + "\")" : "";
  }

  function tag_of(el) {
    var s = "<" + el.tagName.toLowerCase();
    if (el.id) s += " id=\"" + el.id + "\"";
    var cls = el.getAttribute("class");
    if (cls) s += " class=\"" + oneline(cls, 40) + "\"";
    return s + ">";
  }

  /* ---- errors, from the first moment the page runs ---------------------- */
  function record_errors() {
    window.addEventListener("error", function (ev) {
      var t = ev.target;
      if (t && t !== window && t.tagName) {
        failed_urls[t.currentSrc || t.src || t.href || t.data] = true;
        /* A resource (img, script, link...) that failed: it does not bubble,
         * but the capture phase on window sees it. */
        problems.push("resource did not load: " + tag_of(t) + " " +
          describe_url(t.currentSrc || t.src || t.href || t.data) + near(t));
      } else {
        problems.push("uncaught error: " + oneline(ev.message) +
          (ev.filename ? " at " + describe_url(ev.filename) + ":" + ev.lineno : ""));
      }
    }, true);
    window.addEventListener("unhandledrejection", function (ev) {
      var r = ev.reason;
      problems.push("unhandled promise rejection: " +
        oneline(r && r.stack ? r.stack : r));
    });
    document.addEventListener("securitypolicyviolation", function (ev) {
      problems.push("blocked by the content security policy: " +
        describe_url(ev.blockedURI) + " (" + ev.violatedDirective + ")");
    });
    ["error", "warn"].forEach(function (level) {
      var orig = console[level];
      console[level] = function () {
        var parts = [];
        for (var i = 0; i < arguments.length; i++) parts.push(String(arguments[i]));
        problems.push("console." + level + ": " + oneline(parts.join(" ")));
        return orig.apply(console, arguments);
      };
    });
  }

  /* ---- writing the result ------------------------------------------------ */
  function write_result(lines) {
    var pre = document.createElement("pre");
    pre.id = "browser-check-result";
    pre.textContent = MARK_BEGIN + "\n" + lines.join("\n") + "\n" + MARK_END;
    (document.body || document.documentElement).appendChild(pre);
  }

  function all_lines() {
    var lines = infos.map(function (s) { return "info: " + s; });
    problems.forEach(function (p) { lines.push("problem: " + p); });
    lines.push(problems.length ? "FAIL " + problems.length : "OK");
    return lines;
  }

  /* ---- the first picture of the book ------------------------------------- */
  function first_picture() {
    var sels = ["figure img", "figure svg", "img", "svg"];
    for (var i = 0; i < sels.length; i++) {
      var els = document.querySelectorAll(sels[i]);
      for (var j = 0; j < els.length; j++) {
        /* An <svg> nested in another one is part of that picture. */
        if (els[j].tagName.toLowerCase() === "svg" && els[j].parentElement &&
            els[j].parentElement.closest("svg")) continue;
        return els[j];
      }
    }
    return null;
  }

  /* ---- colours and contrast ---------------------------------------------- */
  function parse_rgb(s) {
    var m = /rgba?\(([\d.]+)[, ]+([\d.]+)[, ]+([\d.]+)(?:[,\/ ]+([\d.]+))?/.exec(s);
    if (!m) return null;
    return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
  }

  function luminance(c) {
    var v = c.slice(0, 3).map(function (x) {
      x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }

  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  /* The colour the page is painted with: the first opaque background from
   * <body> up, else the canvas white. */
  function page_background() {
    var els = [document.body, document.documentElement];
    for (var i = 0; i < els.length; i++) {
      if (!els[i]) continue;
      var c = parse_rgb(getComputedStyle(els[i]).backgroundColor);
      if (c && c[3] > 0) return c;
    }
    return [255, 255, 255, 1];
  }

  /* The colour behind an element: the first opaque background up the tree. */
  function background_of(el) {
    for (var e = el; e && e.nodeType === 1; e = e.parentElement) {
      var c = parse_rgb(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) return c;
    }
    return page_background();
  }

  /* Each kind of highlighted code token, console output and inline code:
   * the first of each is measured against what is behind it. 3:1 is the
   * floor here (WCAG asks 4.5:1 of body text): under it a token is barely
   * seen, like black escapes or navy hex numbers on a dark code block. */
  function check_code_colors(scheme) {
    var seen = Object.create(null), bad = [];
    var els = document.querySelectorAll("code span[class], pre.console, :not(pre) > code");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.textContent.trim()) continue;
      var key = el.tagName.toLowerCase() === "span" ? "code span." + el.className :
        (el.tagName.toLowerCase() === "pre" ? "pre.console" : "inline code");
      if (seen[key]) continue;
      seen[key] = true;
      var fg = parse_rgb(getComputedStyle(el).color), bg = background_of(el);
      if (!fg) continue;
      var ratio = contrast(fg, bg);
      if (ratio < 3) {
        bad.push(key + " rgb(" + fg.slice(0, 3).join(",") + ") on rgb(" +
          bg.slice(0, 3).join(",") + ") " + ratio.toFixed(2) + ":1, e.g. \"" +
          oneline(el.textContent, 24) + "\"");
      }
    }
    bad.forEach(function (b) {
      problems.push("code is hard to read with the " + scheme + " preference: " + b);
    });
  }

  /* With the dark preference, a picture whose background is see-through
   * shows the dark page behind it, and its dark lines and text vanish.
   * Look at its pixels (drawn at up to 1200 px wide: an embedded picture can be read back;
   * another one may not be, and is skipped). */
  function check_picture_backgrounds(scheme) {
    var imgs = document.images;
    for (var i = 0; i < imgs.length; i++) {
      var im = imgs[i];
      if (!im.complete || !im.naturalWidth || !im.naturalHeight) continue;
      var behind = background_of(im);
      if (luminance(behind) > 0.2) continue;          /* light behind it */
      var scale = Math.min(1, 1200 / im.naturalWidth);
      var w = Math.max(1, Math.round(im.naturalWidth * scale));
      var h = Math.max(1, Math.round(im.naturalHeight * scale));
      var cv = document.createElement("canvas");
      cv.width = w;
      cv.height = h;
      var px;
      try {
        var ctx = cv.getContext("2d");
        ctx.drawImage(im, 0, 0, w, h);
        px = ctx.getImageData(0, 0, w, h).data;
      } catch (e) {
        continue;
      }
      var clear = 0, lost = 0, n = w * h;
      for (var k = 0; k < px.length; k += 4) {
        if (px[k + 3] < 16) { clear++; continue; }
        if (px[k + 3] > 64 && contrast([px[k], px[k + 1], px[k + 2]], behind) < 1.5) lost++;
      }
      if (clear > n * 0.3 && lost > n * 0.003) {
        problems.push("picture is see-through with the " + scheme + " preference: " +
          Math.round(100 * lost / n) + "% of it (dark lines or text) nearly vanishes on rgb(" +
          behind.slice(0, 3).join(",") + "): " + tag_of(im) + " " +
          describe_url(im.getAttribute("src")) + near(im));
      }
    }
  }

  function report_colors() {
    var dark = matchMedia("(prefers-color-scheme: dark)").matches;
    var scheme = dark ? "dark" : "light";
    var bg = page_background();
    var fg = parse_rgb(getComputedStyle(document.body).color);
    var link = document.querySelector("body a[href]");
    var lc = link ? parse_rgb(getComputedStyle(link).color) : null;
    var fmt = function (c) { return c ? "rgb(" + c.slice(0, 3).join(",") + ")" : "none"; };
    infos.push("colors " + scheme + " background " + fmt(bg) + " text " +
      fmt(fg) + " link " + fmt(lc));
    if (fg && contrast(fg, bg) < 4.5) {
      problems.push("text is hard to read with the " + scheme + " preference: contrast " +
        contrast(fg, bg).toFixed(2) + ":1, under 4.5:1 (" + fmt(fg) + " on " + fmt(bg) + ")");
    }
    if (lc && contrast(lc, bg) < 4.5) {
      problems.push("links are hard to read with the " + scheme + " preference: contrast " +
        contrast(lc, bg).toFixed(2) + ":1, under 4.5:1 (" + fmt(lc) + " on " + fmt(bg) + ")");
    }
    check_code_colors(scheme);
    check_picture_backgrounds(scheme);
  }

  /* ---- the checks after load --------------------------------------------- */
  function check_pictures() {
    var imgs = document.images, bad = 0;
    for (var i = 0; i < imgs.length; i++) {
      var im = imgs[i];
      if (!im.getAttribute("src") && !im.getAttribute("srcset")) {
        problems.push("image without a source: " + tag_of(im) + near(im));
        bad++;
      } else if (failed_urls[im.currentSrc || im.src]) {
        bad++;                                /* already reported */
      } else if (!im.complete || im.naturalWidth === 0) {
        problems.push("image did not load: " + tag_of(im) + " " +
          describe_url(im.currentSrc || im.getAttribute("src")) + near(im));
        bad++;
      }
    }
    var svgs = document.querySelectorAll("svg");
    var nsvg = 0;
    for (var k = 0; k < svgs.length; k++) {
      var s = svgs[k];
      if (s.parentElement && s.parentElement.closest("svg")) continue;
      nsvg++;
      var r = s.getBoundingClientRect();
      if (getComputedStyle(s).display !== "none" && (r.width === 0 || r.height === 0)) {
        problems.push("inline <svg> is drawn with no size (" + r.width + " x " +
          r.height + ")" + near(s));
      }
    }
    infos.push(imgs.length + " image(s), " + nsvg + " inline svg(s)");
    /* <object data> and SVG <image href> are loaded once more as an image. */
    var extra = [];
    document.querySelectorAll("object[data]").forEach(function (o) {
      extra.push([o, o.data]);
    });
    document.querySelectorAll("svg image").forEach(function (im) {
      var h = im.getAttribute("href") ||
        im.getAttributeNS("http://www.w3.org/1999/xlink", "href");
      if (h) extra.push([im, new URL(h, document.baseURI).href]);
    });
    return Promise.all(extra.map(function (pair) {
      return new Promise(function (done) {
        var probe = new Image();
        probe.onload = function () { done(); };
        probe.onerror = function () {
          problems.push("picture did not load: " + tag_of(pair[0]) + " " +
            describe_url(pair[1]) + near(pair[0]));
          done();
        };
        probe.src = pair[1];
      });
    }));
  }

  function check_links() {
    var links = document.querySelectorAll("a[href], area[href]");
    var internal = 0, missing = 0;
    for (var i = 0; i < links.length; i++) {
      var a = links[i];
      var href = a.getAttribute("href") ||
        a.getAttributeNS("http://www.w3.org/1999/xlink", "href") || "";
      if (href.charAt(0) !== "#") continue;
      internal++;
      if (href === "#" || href === "#top") continue;   /* the top of the page */
      var id;
      try { id = decodeURIComponent(href.slice(1)); } catch (e) { id = href.slice(1); }
      if (document.getElementById(id)) continue;
      var named = document.getElementsByName(id);
      if (named.length && named[0].tagName.toLowerCase() === "a") continue;
      missing++;
      if (missing <= 20) {
        problems.push("internal link to a missing target: href=\"" + oneline(href, 80) +
          "\" text \"" + oneline(a.textContent, 50) + "\"" + near(a));
      }
    }
    if (missing > 20) problems.push("... and " + (missing - 20) + " more links to missing targets");
    infos.push(internal + " internal link(s), " + (internal - missing) + " with a target");

    /* Two elements with one id: a link can reach only the first. */
    var seen = Object.create(null), dups = [];
    document.querySelectorAll("[id]").forEach(function (el) {
      if (seen[el.id] && dups.indexOf(el.id) < 0) dups.push(el.id);
      seen[el.id] = true;
    });
    dups.slice(0, 10).forEach(function (id) {
      problems.push("id used twice: \"" + oneline(id, 60) + "\"");
    });
    if (dups.length > 10) problems.push("... and " + (dups.length - 10) + " more ids used twice");
  }

  /* A self-contained page loads nothing but itself (and this script). */
  function check_self_contained() {
    var entries = performance.getEntriesByType("resource");
    entries.forEach(function (e) {
      var n = e.name;
      if (/^(data|blob|about):/.test(n)) return;
      if (/\/browser-check\.js(\?|$)/.test(n)) return;
      if (failed_urls[n]) return;               /* already reported */
      problems.push("the page is not self-contained: it loads " + describe_url(n));
    });
  }

  function mark_picture() {
    var pic = first_picture();
    if (!pic) {
      infos.push("no picture in the page");
      return;
    }
    pic.setAttribute("data-browser-check-picture", "1");
    var box = (pic.closest("figure") || pic).getBoundingClientRect();
    var src = pic.tagName.toLowerCase() === "img" ? " " + describe_url(pic.getAttribute("src")) : "";
    infos.push("picture: " + Math.ceil(box.height) + " " + tag_of(pic) + src + near(pic));
  }

  function after_load(fn) {
    var ran = false;
    var go = function () {
      if (ran) return;
      ran = true;
      var fonts = document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve();
      fonts.then(function () { setTimeout(fn, 50); });
    };
    if (document.readyState === "complete") go();
    else window.addEventListener("load", go);
    /* If load never fires (a resource that hangs), check anyway. */
    setTimeout(function () {
      if (!ran) {
        problems.push("the load event did not fire within 15 s");
        go();
      }
    }, 15000);
  }

  /* ---- phone: does the page scroll sideways at 390 px? -------------------- */
  function clipped(el) {
    for (var p = el.parentElement; p && p !== document.documentElement; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  }

  function phone_report() {
    var de = document.documentElement;
    var lines = [];
    var sw = de.scrollWidth, cw = de.clientWidth;
    lines.push("info: phone " + innerWidth + " x " + innerHeight + " px: page " +
      sw + " px wide, window " + cw + " px");
    if (innerWidth !== PHONE_W) {
      lines.push("problem: the phone frame is " + innerWidth + " px wide, not " + PHONE_W);
    }
    if (sw > cw) {
      var worst = null, count = 0;
      var els = document.body.getElementsByTagName("*");
      for (var i = 0; i < els.length; i++) {
        var r = els[i].getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.right <= cw + 0.5 && r.left >= -0.5) continue;
        if (clipped(els[i])) continue;
        count++;
        if (!worst || r.width > worst.w) worst = { el: els[i], w: r.width, right: r.right };
      }
      var what = worst ?
        "; the widest element sticking out is " + tag_of(worst.el) + ", " +
        Math.round(worst.w) + " px wide, right edge at " + Math.round(worst.right) +
        " px: \"" + oneline(worst.el.textContent, 60) + "\"" + near(worst.el) +
        " (" + count + " element(s) stick out)" : "";
      lines.push("problem: on a " + PHONE_W + " px phone the page scrolls sideways: it is " +
        sw + " px wide" + what);
    }
    return lines;
  }

  /* ---- the modes ------------------------------------------------------------ */
  if (mode === "check") {
    record_errors();
    after_load(function () {
      check_pictures().then(function () {
        check_links();
        check_self_contained();
        report_colors();
        mark_picture();
        write_result(all_lines());
      });
    });
  } else if (mode === "colors") {
    after_load(function () {
      report_colors();
      write_result(all_lines());
    });
  } else if (mode === "phone") {
    after_load(function () {
      parent.postMessage({ browser_check: phone_report() }, "*");
    });
  } else if (mode === "phone-host") {
    var done = false;
    window.addEventListener("message", function (ev) {
      if (done || !ev.data || !ev.data.browser_check) return;
      done = true;
      var lines = ev.data.browser_check.slice();
      var bad = lines.filter(function (l) { return l.indexOf("problem:") === 0; }).length;
      lines.push(bad ? "FAIL " + bad : "OK");
      write_result(lines);
    });
    document.addEventListener("DOMContentLoaded", function () {
      var page = document.documentElement.getAttribute("data-page") || "page.html";
      var f = document.createElement("iframe");
      f.style.cssText = "border:0;display:block;width:" + PHONE_W + "px;height:" + PHONE_H + "px";
      f.src = page + "?bc=phone";
      document.body.appendChild(f);
    });
    setTimeout(function () {
      if (!done) {
        done = true;
        write_result(["problem: the phone frame never reported (page did not load in 20 s)",
          "FAIL 1"]);
      }
    }, 20000);
  } else if (mode === "timeline") {
    var show = function () {
      var pic = first_picture();
      if (!pic) return;
      var keep = pic.closest("figure") || pic;
      document.body.replaceChildren(keep);
      document.body.style.paddingTop = "1em";
      document.body.style.paddingBottom = "1em";
      keep.style.margin = "0";
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
    else show();
  }
})();
