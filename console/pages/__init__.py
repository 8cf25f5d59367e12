"""The console's pages, one module per part of the menu; each declares its routes with
console.web.page and is listed in console.app.PAGE_MODULES."""
