"""Matcher: purchase history reduced to safety categories, the rules, and who gets what when."""
