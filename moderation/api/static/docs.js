// /docs: start swagger-ui, served by modq from the pinned fastapi-swagger package.
// A file rather than the usual inline snippet, so the page keeps the console's CSP.
(() => {
  "use strict";
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    // By default swagger-ui sends the schema's URL to validator.swagger.io for a badge.
    validatorUrl: null,
  });
})();
