"""The safety mail as customers get it: one renderer, for the mailer's sends and every preview.

Pure: no I/O but reading its templates. `render.compose` makes a mail's wire bytes from
`Delivery`s; `bodies` fills one advisory's frame per customer; `mime` writes the MIME;
`i18n` holds the mail's words.
"""
