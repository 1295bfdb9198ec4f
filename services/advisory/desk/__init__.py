"""The desks of people at work: the operators' console and the agencies' portal."""
