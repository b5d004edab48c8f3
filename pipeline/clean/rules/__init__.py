"""The cleaning rules, by who wrote what they remove.

``markers``: where Gutenberg's licence header ends and its footer begins; ``body``: the order in
which the rules below run between them; ``credits``: what the etext's producer added (credits,
preambles, asides); ``notes``: transcriber's notes inside the book; ``closing``: the lists and
notes that close it; ``context``: additions told only by the book around them; ``vocabulary``:
what notes say; ``lines``: line and paragraph arithmetic. Each span a rule finds is named
"family/kind" ("credits/bracketed"), the name the audit shows.
"""
