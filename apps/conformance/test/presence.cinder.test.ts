// presence.scenarios.ts with `@cinder/client` (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { presenceScenarios } from "./presence.scenarios.js";

clientSuite("cinder", presenceScenarios);
