"""The routers app's pages, one module per URL under /routers/."""
