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
        root.Options.Add(ControlCommandsCli.Socket);
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(ControlCommandsCli.Conntrack());
        root.Subcommands.Add(ControlCommandsCli.Rules());
        root.Subcommands.Add(ControlCommandsCli.Status());
        root.Subcommands.Add(ControlCommandsCli.Reload());
        return root;
    }
}
