#!/usr/bin/env python3
"""Build the briefing decks: python build.py [DATA] [--out DIR] [--lang ko,en] [--force]."""

import sys

from deck.launch import main

if __name__ == "__main__":
    sys.exit(main())
