// These tests run on Linux only (the daemon, Unix sockets, file modes).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
