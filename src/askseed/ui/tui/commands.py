"""The chat's entries in the command palette (ctrl+p)."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider


class AskseedCommands(Provider):
    """Re-index, rebuild, save, clear and quit, findable by typing part of their name."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        return [
            (
                "Re-index documents",
                "Embed new and changed files so answers see them (ctrl+r)",
                app.action_reindex,  # type: ignore[attr-defined]
            ),
            (
                "Rebuild index from scratch",
                "Re-embed every file, not only the changed ones",
                lambda: app.action_reindex(rebuild=True),  # type: ignore[attr-defined]
            ),
            (
                "Save transcript",
                "Write the questions, quotes and sources to a Markdown file here (ctrl+s)",
                app.action_save_transcript,  # type: ignore[attr-defined]
            ),
            (
                "Clear transcript",
                "Remove the answered questions from the screen (ctrl+l)",
                app.action_clear_transcript,  # type: ignore[attr-defined]
            ),
            ("Quit", "Leave askseed (ctrl+q)", app.exit),
        ]

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
