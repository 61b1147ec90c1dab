namespace Firewall.Integration.Tests.Lab;

/// <summary>Files of the repository the tests were built from (the tests run from a bin/ directory inside it).</summary>
public static class RepoFiles
{
    /// <summary>The repository root: the first directory above the tests' binaries that holds Firewall.Daemon.sln.</summary>
    public static string Root
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Firewall.Daemon.sln"))) return d.FullName;
            throw new InvalidOperationException($"cannot find the repository root (Firewall.Daemon.sln) above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>The path of <paramref name="relativePath"/> under the root; fails the test when it is not there.</summary>
    public static string Get(string relativePath)
    {
        string path = Path.Combine(Root, relativePath);
        if (!File.Exists(path)) throw new Xunit.Sdk.XunitException($"{relativePath} not found under {Root}");
        return path;
    }
}
