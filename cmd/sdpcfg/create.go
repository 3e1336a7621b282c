package main

var createCommand = &command{
	name:  "create",
	args:  "PATH VALUE|-",
	short: "create a key",
	long: `
Creates the key PATH with VALUE, or with all of stdin for "-". Fails with
exit code 4 if the key exists.

Values of typed paths (/pb/ID, /eb/ID, /deploy/ID, /script/ID,
/component/ID and their /state and /owner sub-keys) must be JSON objects;
with --json any path takes JSON. Such values are stored as ska-sdp-config
writes them (sorted keys, 2-space indent), so Python tools read them
unchanged. --raw stores the value exactly as given.

Examples:
  sdpcfg create /pb/pb-1 '{"script": "vis-receive"}'
  echo hello | sdpcfg create /notes/greeting -`,
	newRunner: func(g *globalOptions) runner { return &writeOptions{g: g, name: "create", create: true} },
}
