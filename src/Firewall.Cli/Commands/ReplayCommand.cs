using System.CommandLine;
using Firewall.Cli.Replay;

namespace Firewall.Cli.Commands;

/// <summary><c>fwctl replay CAPTURE [--rules FILE]... [--config JSON] [--chain FORWARD|INPUT|OUTPUT] [--format jsonl|text] [--write-accepted OUT]</c></summary>
public static class ReplayCommand
{
    public static Command Create()
    {
        var capture = new Argument<string>("capture") { Description = "pcap or pcapng file (Ethernet, raw IP, Linux cooked SLL/SLL2, NFLOG)" };
        var rules = new Option<string[]>("--rules")
        {
            Description = "iptables-save or ip6tables-save file (may be given twice: one IPv4, one IPv6); its *raw table applies too",
            AllowMultipleArgumentsPerToken = false,
        };
        var config = new Option<string?>("--config") { Description = "appsettings JSON file: Firewall:Conntrack tunables and Firewall:Rules" };
        var chain = new Option<string>("--chain") { Description = "filter chain the packets traverse", DefaultValueFactory = _ => "FORWARD" };
        chain.AcceptOnlyFromAmong("FORWARD", "INPUT", "OUTPUT", "forward", "input", "output");
        var format = new Option<string>("--format") { Description = "jsonl: one JSON object per packet; text: columns for people", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("jsonl", "text");
        var write = new Option<string?>("--write-accepted") { Description = "write the accepted packets to this pcap file" };

        var cmd = new Command("replay", "Replay a capture through the conntrack engine and the rules; show each packet's state and verdict.")
        {
            capture, rules, config, chain, format, write,
        };
        cmd.SetAction(pr =>
        {
            var opts = new ReplayOptions
            {
                Capture = pr.GetValue(capture)!,
                RuleFiles = pr.GetValue(rules) ?? [],
                ConfigFile = pr.GetValue(config),
                Chain = pr.GetValue(chain)!.ToUpperInvariant(),
                Format = pr.GetValue(format)!,
                WriteAccepted = pr.GetValue(write),
            };
            return ReplayRunner.Run(opts, Console.OpenStandardOutput(), Console.Error);
        });
        return cmd;
    }
}
