"""Claims (理赔): first notice, benefit calculation, intelligent review, fast tracks."""
