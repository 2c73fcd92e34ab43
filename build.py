#!/usr/bin/env python3
"""Build the briefing decks: python build.py [DATA] [--out DIR] [--lang ko,en] [--force]."""

from deck.launch import run

if __name__ == "__main__":
    run()
