"""deck: bilingual PowerPoint briefings from a news article's data file."""

__version__ = "0.1.0"
