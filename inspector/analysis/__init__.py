"""Pure analysis over what the engine and the store give: intervals and agreement, the leak report, validation
against labels, preference coherence, the naturalness panel and its statistics, the strength sweep's table."""
