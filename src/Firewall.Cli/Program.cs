using System.CommandLine;
using Firewall.Cli.Commands;

namespace Firewall.Cli;

/// <summary>fwctl: the control and analysis tool. Each command lives in Commands/ and is added here.</summary>
public static class Program
{
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("fwctl — control and analysis tool for firewall-daemon");
        root.Subcommands.Add(ReplayCommand.Create());
        return root;
    }
}
