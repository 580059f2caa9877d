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

THIRD_PASS = """\
Third pass: quote choice by token alignment (the rows "re-ranking the top N"):
- The first step (the conditional logit over FEATURES, no model run) puts a sentence holding
  the answer first for 0.72-0.73 of the held-out answerable questions, among its top 2 for
  0.83, its top 3 for 0.88-0.89, its top 5 for 0.92 and anywhere for 0.95 (two folds).
- Re-ranking its top N by alignment alone keeps the gain of aligning every sentence at a
  fraction of the cost: with the first pass's three variants and the first score, quote right
  0.769 for N = 2, 3, 5 and 8 alike (0.768 for 4; 0.762 with the mean alignment alone).
  A second conditional logit over all FEATURES and the three (rather than the first score
  and the three): 0.772 at N = 3.
- Four new variants, each added to that re-ranking (all FEATURES and the three: 0.7722),
  by a one-off script on the same folds (quote right only, not committed): the reverse
  alignment (the sentence's pieces matched in the question) 0.7731, the question word's
  best match 0.7743, the match weighted by each word's rarity over the index 0.7739, the
  share of the sentence's pieces no question piece matches 0.7726; all four 0.7771 (0.7783
  at N = 5); all but rarity 0.7765. Shipped: all but rarity (it needs the index's word
  weights inside the alignment step), N = 3; calibrate.py's rows above measure it end to
  end: N = 2 gives 0.774, N = 5 no more than N = 3.
- The answerable heads reading all six alignments of the quote, not only the mean: held out,
  off-corpus abstained 0.833 -> 0.842, adversarial 0.117 -> 0.124, answered with the right
  quote 0.755 -> 0.754. Not shipped: on the seed (run after the held-out figures) near-topic
  refusals fell from 9 to 8 of 12, below tests/test_seed_questions.py's floor, while the
  mean alone keeps 9 of 12 and 14 of 27 paraphrases. The seed chose between these two.
- A new abstention signal, the top 3's alignments summed up as question features of the
  answerable heads (the best mean and content alignment among them, the mean of their means,
  the fewest unmatched pieces; benchmarks/calibrate_variants.py): off-corpus abstained
  0.833 -> 0.847, but adversarial 0.117 -> 0.115, ECE 0.021 -> 0.025, AUROC 0.737 -> 0.735
  (keywords unchanged: the statement head does not read them). Not shipped: not every
  held-out figure improves.
- SciFact, run after the choice: nDCG@10 0.7429 -> 0.7376 (MRR@10 0.7091 -> 0.7019; recall
  unchanged), as the re-ranking moves another passage of a claim first. Re-ranking questions
  only (a statement keeping the first step's choice; calibrate.py with that two-line change,
  not kept) lowered the shared line from 0.207 to 0.201, as the keyword forms' confidences
  fell: held out, questions' off-corpus abstained 0.833 -> 0.810, adversarial 0.117 ->
  0.107. Not shipped; SciFact's nDCG@10 stays 0.0008 under its 0.7384 floor."""
