"""What calibrate.py records beside its table: the alternatives the second pass measured on
the same held-out folds, and why they were not shipped (benchmarks/calibrate_variants.py
reproduces most of them)."""

SECOND_PASS = """\
Second pass (what was measured, on these held-out folds, before anything was shipped):
- The first pass shipped "all features, no alignment" with a statement head without
  `folder_margin`: questions off-corpus abstained 0.815, keywords 0.757 (ECE 0.024). Giving
  the statement head `folder_margin` raised keywords to 0.784 (ECE 0.027).
- The quote's alignment (MaxSim of the question's and the quote's word pieces, from MiniLM's
  token vectors; only the quote, since it costs a model pass) as a feature of the answerable
  heads: the row above. Variants: the mean over content pieces only: 0.829 off-corpus; the
  worst-aligned content piece: 0.810; the three together: 0.833.
- Alignment as a feature of every candidate sentence (it then also chooses the quote),
  benchmarks/calibrate_variants.py: quote right 0.760 -> 0.762, answered with the right quote
  0.739 -> 0.742, off-corpus 0.844. With the three variants above as sentence features (a
  one-off script): quote right 0.773, answered with the right quote 0.752. Not shipped: it
  runs the model on every candidate sentence (about 25 per question), several times the
  one-shot latency budget.
- Paraphrase-like training data (benchmarks/calibrate_variants.py): answerable questions
  copied with the words they share with their answer sentence masked from the lexical
  features (coverage, local and passage coverage, absent words, missing names; the dense
  features unchanged), 4,516 copies added to the training folds. For both heads: answered
  0.982, off-corpus abstained 0.534, quote right 0.715. For the answerable head only, line
  set on real questions: answered 0.979, off-corpus 0.492, ECE 0.057. Not shipped: on SQuAD
  the shared words are most of what tells an off-corpus question apart, and masking them
  teaches the fit to ignore them. Checked on the seed only afterwards: paraphrases 17/27
  answered with the right quote, but near-topic refusals fell to 6/12.
- A boosted-trees probe (scikit-learn, not shipped) on the same question-level features
  reached no more than the linear head (off-corpus 0.80-0.84 at 96% answered): the features,
  not the linear form, are the limit."""
