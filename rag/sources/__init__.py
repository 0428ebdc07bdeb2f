"""Where articles come from: files of each format (``corpus``), web pages and feeds
(``web``), what web visitors may name (``access``), and sources followed on a schedule
(``watch``). May import ``rag.core`` only."""
