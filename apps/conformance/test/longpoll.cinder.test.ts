// longpoll.scenarios.ts with `@cinder/client` (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { longpollScenarios } from "./longpoll.scenarios.js";

clientSuite("cinder", longpollScenarios);
