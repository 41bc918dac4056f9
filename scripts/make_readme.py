"""Write README.md from nbs/index.ipynb and its saved outputs (what `nbdev_readme` does, without needing Quarto).

    python scripts/make_readme.py

Cells marked `#| hide` are left out, cells marked `#| echo: false` show only their output, and tables print as text.
"""
from pathlib import Path
import re
import nbformat
from nbconvert import MarkdownExporter
from traitlets.config import Config

root = Path(__file__).resolve().parent.parent
nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
for c in nb.cells:
    first = c.source.split('\n', 1)[0].replace(' ', '')
    tags = c.metadata.setdefault('tags', [])
    if first == '#|hide': tags.append('remove_cell')
    elif first == '#|echo:false': tags.append('remove_input')
    for o in c.get('outputs', []):   # plain text over HTML for tables; Markdown stays Markdown
        if 'text/html' in o.get('data', {}) and 'text/plain' in o['data']: del o['data']['text/html']
cfg = Config({'TagRemovePreprocessor': {'enabled': True, 'remove_cell_tags': ['remove_cell'], 'remove_input_tags': ['remove_input']}})
body, _ = MarkdownExporter(config=cfg).from_notebook_node(nb)
body = re.sub(r'\]\((?!https?:|#)([^)]+)\)', r'](nbs/\1)', body)   # links and images relative to nbs/
(root/'README.md').write_text('<!-- Generated from nbs/index.ipynb by scripts/make_readme.py; edit the notebook, not this file. -->\n\n' + body.strip() + '\n')
print(f"wrote {root/'README.md'}")
