// connect.scenarios.ts with `@cinder/client` (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { connectScenarios } from "./connect.scenarios.js";

clientSuite("cinder", connectScenarios);
