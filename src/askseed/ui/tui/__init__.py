"""The askseed chat, a Textual app. Start it with `askseed chat`, or `askseed` alone."""
