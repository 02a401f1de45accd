"""Hostile strings, by family: what a citizen or another system's file may put in any text field.

Used by the unit tests of every writer (maps, HTML, Markdown, exports) and by the browser test.
``MARKER`` results of evaluation (``7*191191``) must never appear; ``PWNED`` must never be set.
"""

EVAL_RESULT = "1337337"  # 7 * 191191: shows up only if a template evaluated {{ 7*191191 }}
PWN_FILE = "/tmp/minqing_pwned"

JINJA = [
    "{{ 7*191191 }}",
    "{{7*191191}}",
    "{% raw %}",
    "{% endraw %}{{ 7*191191 }}",
    "{# comment",
    "{{ cycler.__init__.__globals__.os.system('touch " + PWN_FILE + "') }}",
    "{% for x in range(3) %}{{ 7*191191 }}{% endfor %}",
]
SCRIPT = [
    "${window.__pwned=1}",
    "\\`;window.__pwned=1;//",
    "`+(window.__pwned=1)+`",
    "</script><script>window.__pwned=1</script>",
    "'\";window.__pwned=1;//",
    "\u2028window.__pwned=1\u2029",
]
HTML = [
    '<img src=x onerror="window.__pwned=1">',
    "<svg onload=window.__pwned=1>",
    "<b>bold</b><i>x</i>",
    '"><iframe src="javascript:window.__pwned=1"></iframe>',
    "&lt;escaped&gt; &amp;",
]
MARKDOWN = [
    "[click](javascript:window.__pwned=1)",
    "**bold** _it_ # heading",
    ":red[red text] :material/home:",
    "$\\alpha^2$",
    "![img](http://example.invalid/x.png)",
]
FORMULA = [
    '=HYPERLINK("http://example.invalid","click")',
    "=cmd|' /C calc'!A0",
    "=1+2",
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]
CONTROL = [
    "line1\rline2",
    "line1\r\nline2\nline3",
    "nul\x00byte",
    "esc\x1b[31mred",
    "bell\x07 and \x0b\x0c",
    "\u202eright-to-left",
]
FAMILIES = {"jinja": JINJA, "script": SCRIPT, "html": HTML, "markdown": MARKDOWN, "formula": FORMULA,
            "control": CONTROL}
ALL = [p for family in FAMILIES.values() for p in family]
