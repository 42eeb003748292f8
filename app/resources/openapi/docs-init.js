// Starts Swagger UI on /openapi.json. A file of its own, not an inline script, so that a
// Content-Security-Policy without 'unsafe-inline' allows it.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // No badge from validator.swagger.io: the page loads nothing from other hosts.
  validatorUrl: null
});
