# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_lint_test.go (see lib.sh): each
# checkLinterWarnings call is check_lint, which compares the warnings field by field. Sourced by run.sh.

testDefinitionDescription() {
  dockerfile <<'D'
# check=experimental=InvalidDefinitionDescription
# foo this is the foo
ARG foo=bar

# base this is the base image
FROM scratch AS base

# version this is the version number
ARG version=latest

# baz this is the baz
ARG foo=baz bar=qux baz=quux
#
ARG bit=bat

# comment for something other than ARG or FROM
COPY Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'
# check=experimental=InvalidDefinitionDescription
# bar this is the bar
ARG foo=bar
# BasE this is the BasE image
FROM scratch AS base
# definitely a bad comment
ARG version=latest
# definitely a bad comment
ARG foo=baz bar=qux baz=quux

D
  check_lint <<'W'
InvalidDefinitionDescription|Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.|https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/|Comment for ARG should follow the format: `# foo <description>`|3
InvalidDefinitionDescription|Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.|https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/|Comment for FROM should follow the format: `# base <description>`|5
InvalidDefinitionDescription|Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.|https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/|Comment for ARG should follow the format: `# version <description>`|7
InvalidDefinitionDescription|Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.|https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/|Comment for ARG should follow the format: `# <arg_key> <description>`|9
W
}

testSecretsUsedInArgOrEnv() {
  dockerfile <<'D'

FROM scratch
ARG SECRET_PASSPHRASE
ENV SUPER_Secret=foo
ENV password=bar secret=baz
ARG super_duper_secret_token=foo auth=bar
ENV apikey=bar sunflower=foo
ENV git_key=
ENV PUBLIC_KEY=
ARG public_token

D
  check_lint <<'W'
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ARG "SECRET_PASSPHRASE")|3
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ENV "SUPER_Secret")|4
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ENV "password")|5
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ENV "secret")|5
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ARG "auth")|6
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ARG "super_duper_secret_token")|6
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ENV "apikey")|7
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ENV "git_key")|8
W
}

testStageName() {
  dockerfile <<'D'

# warning: stage name should be lowercase
#
FROM scratch AS BadStageName

# warning: 'as' should match 'FROM' cmd casing.
#
FROM scratch as base2

FROM scratch AS base3

D
  check_lint <<'W'
StageNameCasing|Stage names should be lowercase|https://docs.docker.com/go/dockerfile/rule/stage-name-casing/|Stage name 'BadStageName' should be lowercase|4
FromAsCasing|The 'as' keyword should match the case of the 'from' keyword|https://docs.docker.com/go/dockerfile/rule/from-as-casing/|'as' and 'FROM' keywords' casing do not match|8
W
  dockerfile <<'D'

# warning: 'AS' should match 'from' cmd casing.
#
from scratch AS base

from scratch as base2

D
  check_lint <<'W'
FromAsCasing|The 'as' keyword should match the case of the 'from' keyword|https://docs.docker.com/go/dockerfile/rule/from-as-casing/|'AS' and 'from' keywords' casing do not match|4
W
}

testNoEmptyContinuation() {
  dockerfile <<'D'

FROM scratch
# warning: empty continuation line
COPY Dockerfile \

.
COPY Dockerfile \
.

D
  check_lint <<'W'
NoEmptyContinuation|Empty continuation lines will become errors in a future release|https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/|Empty continuation line|6
W
}

testDuplicateStageName() {
  dockerfile <<'D'

FROM scratch AS b
FROM scratch AS b

D
  check_lint <<'W'
DuplicateStageName|Stage names should be unique|https://docs.docker.com/go/dockerfile/rule/duplicate-stage-name/|Duplicate stage name "b", stage names should be unique|3
W
  dockerfile <<'D'

FROM scratch AS b1
FROM scratch AS b2

D
  check_lint <<'W'

W
}

testReservedStageName() {
  dockerfile <<'D'

FROM scratch AS scratch
FROM scratch AS context

D
  check_lint <<'W'
ReservedStageName|Reserved words should not be used as stage names|https://docs.docker.com/go/dockerfile/rule/reserved-stage-name/|Stage name should not use the same name as reserved stage "scratch"|2
ReservedStageName|Reserved words should not be used as stage names|https://docs.docker.com/go/dockerfile/rule/reserved-stage-name/|Stage name should not use the same name as reserved stage "context"|3
W
  dockerfile <<'D'

FROM scratch
FROM scratch AS a

D
  check_lint <<'W'

W
}

testJSONArgsRecommended() {
  dockerfile <<'D'

FROM scratch
CMD mycommand

D
  check_lint <<'W'
JSONArgsRecommended|JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals|https://docs.docker.com/go/dockerfile/rule/json-args-recommended/|JSON arguments recommended for CMD to prevent unintended behavior related to OS signals|3
W
  dockerfile <<'D'

FROM scratch
ENTRYPOINT mycommand

D
  check_lint <<'W'
JSONArgsRecommended|JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals|https://docs.docker.com/go/dockerfile/rule/json-args-recommended/|JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals|3
W
  dockerfile <<'D'

FROM scratch
SHELL ["/usr/bin/customshell"]
CMD mycommand

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM scratch
SHELL ["/usr/bin/customshell"]
ENTRYPOINT mycommand

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM scratch AS base
SHELL ["/usr/bin/customshell"]

FROM base
CMD mycommand

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM scratch AS base
SHELL ["/usr/bin/customshell"]

FROM base
ENTRYPOINT mycommand

D
  check_lint <<'W'

W
}

testMaintainerDeprecated() {
  dockerfile <<'D'

FROM scratch
MAINTAINER me@example.org

D
  check_lint <<'W'
MaintainerDeprecated|The MAINTAINER instruction is deprecated, use a label instead to define an image author|https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/|Maintainer instruction is deprecated in favor of using label|3
W
  dockerfile <<'D'

FROM scratch
LABEL org.opencontainers.image.authors="me@example.org"

D
  check_lint <<'W'

W
}

testWorkdirRelativePath() {
  dockerfile <<'D'

FROM scratch
WORKDIR app/

D
  check_lint <<'W'
WorkdirRelativePath|Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes|https://docs.docker.com/go/dockerfile/rule/workdir-relative-path/|Relative workdir "app/" can have unexpected results if the base image changes|3
W
  dockerfile <<'D'

FROM scratch AS a
WORKDIR /app

FROM a AS b
WORKDIR subdir/

D
  check_lint <<'W'

W
}

testRedundantTargetPlatform() {
  dockerfile <<'D'

FROM --platform=$TARGETPLATFORM scratch

D
  check_lint <<'W'
RedundantTargetPlatform|Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior|https://docs.docker.com/go/dockerfile/rule/redundant-target-platform/|Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior|2
W
  dockerfile <<'D'

FROM --platform=${TARGETPLATFORM} scratch

D
  check_lint <<'W'
RedundantTargetPlatform|Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior|https://docs.docker.com/go/dockerfile/rule/redundant-target-platform/|Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior|2
W
}

testFromPlatformFlagConstDisallowed() {
  dockerfile <<'D'

FROM --platform=linux/amd64 scratch

D
  check_lint <<'W'
FromPlatformFlagConstDisallowed|FROM --platform flag should not use a constant value|https://docs.docker.com/go/dockerfile/rule/from-platform-flag-const-disallowed/|FROM --platform flag should not use constant value "linux/amd64"|2
W
  dockerfile <<'D'

FROM --platform=linux/amd64 scratch AS my_amd64_stage

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM --platform=linux/amd64 scratch AS linux

D
  check_lint <<'W'

W
}

testExposeProtoCasing() {
  dockerfile <<'D'

FROM scratch
EXPOSE 80/TcP 8080/TCP 8080/udp

D
  check_lint <<'W'
ExposeProtoCasing|Protocol in EXPOSE instruction should be lowercase|https://docs.docker.com/go/dockerfile/rule/expose-proto-casing/|Defined protocol '80/TcP' in EXPOSE instruction should be lowercase|3
ExposeProtoCasing|Protocol in EXPOSE instruction should be lowercase|https://docs.docker.com/go/dockerfile/rule/expose-proto-casing/|Defined protocol '8080/TCP' in EXPOSE instruction should be lowercase|3
W
}

testExposeInvalidFormat() {
  dockerfile <<'D'

FROM scratch
EXPOSE 127.0.0.1:80:80 [::1]:8080:8080 5000:5000 8000

D
  check_lint <<'W'
ExposeInvalidFormat|IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release|https://docs.docker.com/go/dockerfile/rule/expose-invalid-format/|EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'|3
ExposeInvalidFormat|IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release|https://docs.docker.com/go/dockerfile/rule/expose-invalid-format/|EXPOSE instruction should not define an IP address or host-port mapping, found '[::1]:8080:8080'|3
ExposeInvalidFormat|IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release|https://docs.docker.com/go/dockerfile/rule/expose-invalid-format/|EXPOSE instruction should not define an IP address or host-port mapping, found '5000:5000'|3
W
}
