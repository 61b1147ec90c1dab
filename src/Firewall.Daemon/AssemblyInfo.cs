// The daemon runs on Linux only (Unix sockets, file modes, signals).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
