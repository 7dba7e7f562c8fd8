"""The customers' own words: recurring themes in NPS comments and support tickets, with counts and verbatims.

Words of a text in English, Russian or Chinese (``words``), themes by TF-IDF + NMF (``themes``), and the themes
of a scope's NPS comments and ticket subjects by stage, segment and band with their trend (``needs``).
"""

from lifecycle.voice.themes import Theme, ThemeFit, find_themes
from lifecycle.voice.words import Vocabulary, Word, terms, words

__all__ = ["Theme", "ThemeFit", "Vocabulary", "Word", "find_themes", "terms", "words"]
