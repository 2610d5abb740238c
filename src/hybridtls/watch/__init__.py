"""``hybridtls watch``: probe every hybrid endpoint on a schedule, keep the history, alert on change."""
