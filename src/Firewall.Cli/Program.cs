namespace Firewall.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("fwctl: no commands yet");
        return 2;
    }
}
