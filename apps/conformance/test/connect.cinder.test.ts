// connect.scenarios.ts with `@cinder/client` (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { connectScenarios } from "./connect.scenarios.js";

clientSuite("cinder", connectScenarios);
