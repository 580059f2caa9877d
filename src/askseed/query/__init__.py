"""From a question to an answer: rank chunks, score sentences, choose quotes or abstain."""
