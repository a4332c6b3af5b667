// Injected by tests/bats/fd-case-browser.bats into a copy of a rendered page: measures every
// SVG text with the browser's own font metrics and lists the pairs, within one chart, whose
// boxes overlap, the texts that stick out of their chart, and the times (td.ts) broken over lines.  The result goes into the DOM
// (<pre id="layout-check">) for chromium --dump-dom, with the page's height (data-height).
(function () {
	var out = [], svgs = document.querySelectorAll('svg'), i, j, k;
	for (i = 0; i < svgs.length; i++) {
		var s = svgs[i], sb = s.getBoundingClientRect(), t = s.querySelectorAll('text'), b = [];
		for (j = 0; j < t.length; j++) {
			var r = t[j].getBoundingClientRect();
			if (r.width === 0)
				continue;
			b.push({r: r, s: t[j].textContent});
			if (r.left < sb.left - 0.5 || r.right > sb.right + 0.5 || r.top < sb.top - 0.5 || r.bottom > sb.bottom + 0.5)
				out.push('outside ' + (s.getAttribute('aria-label') || '') + ': ' + t[j].textContent);
		}
		for (j = 0; j < b.length; j++)
			for (k = j + 1; k < b.length; k++) {
				var p = b[j].r, q = b[k].r;
				// 1 px of slack: glyph boxes include the font's line gap
				if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1)
					out.push('overlap ' + (s.getAttribute('aria-label') || '') + ': ' + b[j].s + ' / ' + b[k].s);
			}
	}
	// a time (td.ts) is one line: broken over two it reads as two values
	var ts = document.querySelectorAll('td.ts');
	for (i = 0; i < ts.length; i++) {
		var rg = document.createRange();
		rg.selectNodeContents(ts[i]);
		var tops = {}, rs = rg.getClientRects();
		for (j = 0; j < rs.length; j++)
			tops[Math.round(rs[j].top)] = 1;
		if (Object.keys(tops).length > 1)
			out.push('wrapped: ' + ts[i].textContent);
	}
	// the page's full height at this width, before the result adds to it: a screenshot of the
	// whole page needs at least this many rows
	var height = Math.ceil(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight));
	var pre = document.createElement('pre');
	pre.id = 'layout-check';
	pre.setAttribute('data-height', String(height));
	pre.setAttribute('data-svgs', String(svgs.length));
	pre.setAttribute('data-problems', String(out.length));
	pre.textContent = out.join('\n');
	document.body.appendChild(pre);
})();
