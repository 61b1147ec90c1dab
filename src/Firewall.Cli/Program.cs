using System.CommandLine;
using Firewall.Cli.Commands;

namespace Firewall.Cli;

/// <summary>fwctl: the control and analysis tool. Each command lives in Commands/ and is added here.</summary>
public static class Program
{
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

    /// <summary>The fwctl command tree. Each command lives in Commands/XxxCommand.cs with a static Create(); add it here.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("fwctl: control and inspect the Firewall.Daemon engine");
        root.Options.Add(ControlCommandsCli.Socket);
        Command[] commands =
        [
            ReplayCommand.Create(),
            BenchCommand.Create(),
            ControlCommandsCli.Conntrack(),
            ControlCommandsCli.Rules(),
            ControlCommandsCli.Status(),
            ControlCommandsCli.Reload(),
        ];
        foreach (var c in commands) root.Subcommands.Add(c);
        return root;
    }
}
