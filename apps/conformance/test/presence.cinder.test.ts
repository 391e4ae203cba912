// presence.scenarios.ts with `@cinder/client` (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { presenceScenarios } from "./presence.scenarios.js";

clientSuite("cinder", presenceScenarios);
