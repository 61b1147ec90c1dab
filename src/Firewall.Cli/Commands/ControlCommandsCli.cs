using System.CommandLine;
using Firewall.Cli.Control;
using Firewall.Core.Conntrack;
using Firewall.Core.Control;

namespace Firewall.Cli.Commands;

/// <summary>
/// The commands that talk to the running daemon: <c>fwctl conntrack</c> (like conntrack-tools), <c>fwctl rules</c>
/// (like iptables -L -v -n / iptables-save), <c>fwctl status</c>, <c>fwctl reload</c>.
/// </summary>
public static class ControlCommandsCli
{
    /// <summary>--socket PATH, on the root command and every subcommand.</summary>
    public static readonly Option<string?> Socket = new("--socket")
    {
        Description = $"control socket of firewall-daemon (default $FWCTL_SOCKET or {ControlProtocol.DefaultSocketPath})",
        Recursive = true,
    };

    private static Task<int> Send(ParseResult pr, ControlRequest request, CancellationToken ct, Action<string>? onLine = null) =>
        ControlClient.RunAsync(ControlClient.ResolvePath(pr.GetValue(Socket)), request, Console.Out, Console.Error, ct, onLine);

    public static Command Conntrack()
    {
        var list = new Option<bool>("-L", "--dump") { Description = "list entries (\"-L expect\": expectations)" };
        var stats = new Option<bool>("-S", "--stats") { Description = "counters, one line per worker" };
        var count = new Option<bool>("-C", "--count") { Description = "number of entries" };
        var events = new Option<bool>("-E", "--event") { Description = "print events until interrupted" };
        var flush = new Option<bool>("-F", "--flush") { Description = "delete every entry" };
        var delete = new Option<bool>("-D", "--delete") { Description = "delete the entries the filters select" };
        var table = new Argument<string?>("table") { Description = "conntrack (default) or expect", Arity = ArgumentArity.ZeroOrOne };
        var family = new Option<string?>("-f", "--family") { Description = "ipv4 or ipv6" };
        family.AcceptOnlyFromAmong("ipv4", "ipv6");
        var proto = new Option<string?>("-p", "--proto") { Description = "protocol name or number" };
        var src = new Option<string?>("-s", "--orig-src", "--src") { Description = "original source address[/prefix]" };
        var dst = new Option<string?>("-d", "--orig-dst", "--dst") { Description = "original destination address[/prefix]" };
        var rsrc = new Option<string?>("-r", "--reply-src") { Description = "reply source address[/prefix]" };
        var rdst = new Option<string?>("-q", "--reply-dst") { Description = "reply destination address[/prefix]" };
        var sport = new Option<int?>("--sport", "--orig-port-src") { Description = "original source port" };
        var dport = new Option<int?>("--dport", "--orig-port-dst") { Description = "original destination port" };
        var state = new Option<string?>("--state") { Description = "protocol state (ESTABLISHED, SYN_SENT, …)" };
        var status = new Option<string?>("-u", "--status") { Description = "ASSURED, SEEN_REPLY, UNREPLIED, EXPECTED (comma separated)" };
        var zone = new Option<int?>("-w", "--zone") { Description = "zone" };
        var output = new Option<string?>("-o", "--output") { Description = "extended: with the layer-3 prefix" };
        output.AcceptOnlyFromAmong("extended");
        var proc = new Option<bool>("--proc") { Description = "the format of /proc/net/nf_conntrack" };

        var cmd = new Command("conntrack", "Connection tracking table of the running daemon, as the conntrack tool shows it")
        {
            list, stats, count, events, flush, delete, table, family, proto, src, dst, rsrc, rdst, sport, dport, state, status, zone, output, proc,
        };
        cmd.SetAction(async (pr, ct) =>
        {
            int actions = (pr.GetValue(list) ? 1 : 0) + (pr.GetValue(stats) ? 1 : 0) + (pr.GetValue(count) ? 1 : 0) + (pr.GetValue(events) ? 1 : 0) +
                          (pr.GetValue(flush) ? 1 : 0) + (pr.GetValue(delete) ? 1 : 0);
            if (actions != 1)
            {
                Console.Error.WriteLine("fwctl conntrack: give exactly one of -L, -S, -C, -E, -F, -D");
                return 2;
            }
            string? tbl = pr.GetValue(table);
            if (tbl is not (null or "conntrack" or "expect"))
            {
                Console.Error.WriteLine($"fwctl conntrack: unknown table \"{tbl}\" (conntrack, expect)");
                return 2;
            }
            var filter = new ConntrackFilter
            {
                Family = pr.GetValue(family) switch { "ipv4" => 4, "ipv6" => 6, _ => null },
                Protocol = pr.GetValue(proto),
                Source = pr.GetValue(src),
                Destination = pr.GetValue(dst),
                ReplySource = pr.GetValue(rsrc),
                ReplyDestination = pr.GetValue(rdst),
                SourcePort = pr.GetValue(sport),
                DestinationPort = pr.GetValue(dport),
                State = pr.GetValue(state),
                Status = pr.GetValue(status),
                Zone = pr.GetValue(zone),
            };
            var problems = filter.Validate();
            if (problems.Count > 0)
            {
                foreach (var p in problems) Console.Error.WriteLine($"fwctl conntrack: {p}");
                return 2;
            }
            string command = pr.GetValue(list) ? (tbl == "expect" ? ControlCommands.ExpectList : ControlCommands.ConntrackList)
                : pr.GetValue(stats) ? ControlCommands.ConntrackStats
                : pr.GetValue(count) ? ControlCommands.ConntrackCount
                : pr.GetValue(events) ? ControlCommands.ConntrackEvents
                : pr.GetValue(flush) ? ControlCommands.ConntrackFlush
                : ControlCommands.ConntrackDelete;
            var request = new ControlRequest
            {
                Command = command,
                Filter = filter.IsEmpty ? null : filter,
                Format = pr.GetValue(proc) ? "proc" : pr.GetValue(output),
            };
            if (command != ControlCommands.ConntrackEvents) return await Send(pr, request, ct);
            long shown = 0;
            int rc = await Send(pr, request, ct, _ => shown++);
            Console.Error.WriteLine($"{ControlProtocol.Banner}: {shown} flow events have been shown.");
            return rc;
        });
        return cmd;
    }

    public static Command Rules()
    {
        var v6 = new Option<bool>("-6", "--ipv6") { Description = "the IPv6 rules (ip6tables)" };
        var table = new Option<string>("-t", "--table") { Description = "filter or raw", DefaultValueFactory = _ => "filter" };
        table.AcceptOnlyFromAmong("filter", "raw");
        var save = new Option<bool>("--save") { Description = "iptables-save form" };
        var counters = new Option<bool>("-c", "--counters") { Description = "with --save: [packets:bytes] counters" };
        var cmd = new Command("rules", "Rules of the running daemon with packet and byte counters (iptables -L -v -n)") { v6, table, save, counters };
        cmd.SetAction((pr, ct) => Send(pr, new ControlRequest
        {
            Command = ControlCommands.Rules,
            Family = pr.GetValue(v6) ? 6 : 4,
            Table = pr.GetValue(table),
            Save = pr.GetValue(save),
            Counters = pr.GetValue(counters),
        }, ct));
        return cmd;
    }

    public static Command Status()
    {
        var cmd = new Command("status", "State of the running daemon: data path, table, rules, last reload, saved state");
        cmd.SetAction((pr, ct) => Send(pr, new ControlRequest { Command = ControlCommands.Status }, ct));
        return cmd;
    }

    public static Command Reload()
    {
        var cmd = new Command("reload", "Re-read the configuration and swap in the new rules and tunables (connections stay)");
        cmd.SetAction((pr, ct) => Send(pr, new ControlRequest { Command = ControlCommands.Reload }, ct));
        return cmd;
    }
}
