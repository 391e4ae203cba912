// longpoll.scenarios.ts with `@cinder/client` (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { longpollScenarios } from "./longpoll.scenarios.js";

clientSuite("cinder", longpollScenarios);
