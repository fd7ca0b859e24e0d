"""Local Sphinx extension for the book (loaded through `_config.yml`, `sphinx.local_extensions`).

Jupyter Book 1 runs sphinx-thebe's set-up once per read phase, so every page carried its inline
configuration script twice and the browser reported
``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``. This removes exact duplicate
script entries from each page's context before it is rendered (the duplicate togglebutton setting
goes too).

The book sets ``launch_buttons.thebe: false``, yet sphinx-thebe still adds its loader script and a
configuration naming ``https://unpkg.com/thebe...``: dead weight, and a remote JavaScript address in
an offline book. Both are dropped here too, with its stylesheet.
"""

from __future__ import annotations


def _key(js) -> tuple:
    attrs = getattr(js, "attributes", {}) or {}
    # the two copies differ only in filename None vs "" (inline scripts)
    name = getattr(js, "filename", str(js)) or ""
    return (name, tuple(sorted((k, str(v)) for k, v in attrs.items())))


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set = set()
    unique = []
    for js in scripts:
        k = _key(js)
        body = str((getattr(js, "attributes", {}) or {}).get("body", ""))
        if "thebe" in (getattr(js, "filename", "") or "") or "THEBE_JS_URL" in body:
            continue  # Thebe is off: no loader, no remote address
        if k not in seen:
            seen.add(k)
            unique.append(js)
    scripts[:] = unique  # in place: Sphinx restores its own list before the next page
    css = context.get("css_files")
    if css:
        css[:] = [c for c in css if "thebe" not in (getattr(c, "filename", str(c)) or "")]


def _drop_thebe_nodes(app, doctree, docname) -> None:
    """sphinx-thebe also appends its per-page configuration to some doctrees (a script naming a
    Binder repository and the kernel): remove it, Thebe is off."""
    from docutils import nodes

    for node in list(doctree.findall(nodes.raw)):
        text = node.astext()
        if "x-thebe-config" in text or text.strip().startswith("<script>kernelName ="):
            node.parent.remove(node)


def setup(app):
    # early: html-page-context stops at the first handler that returns a template name
    app.connect("html-page-context", _dedupe_scripts, priority=10)
    app.connect("doctree-resolved", _drop_thebe_nodes, priority=900)  # after sphinx-thebe's
    return {"parallel_read_safe": True, "parallel_write_safe": True}

