// storyreel API docs: Swagger UI from the fastapi-offline wheel's files, started without an inline script (CSP).
window.addEventListener("DOMContentLoaded", function () {
  "use strict";
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,
                                presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout" });
});
