"""Stage 5, running and publishing: scheduled runs, the summary, the workshop, the command line.

Enters: the numbered notebooks and a source. Leaves: a run folder of HTML reports (the summary, each
workbook, the manager packs, PDFs, one self-contained file), written beside the last good report and
swapped in only when everything succeeded; Voilà for a workshop; ``salesbook`` on the command line
(exit 2 and one line on bad input).

Imports from: every earlier stage.
"""
