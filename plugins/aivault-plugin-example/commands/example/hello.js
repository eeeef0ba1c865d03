'use strict'
// A plugin command is an ordinary oclif command; this one runs with the plugin's own @oclif/core.
const {Command, Flags} = require('@oclif/core')

class ExampleHello extends Command {
  async run() {
    const {flags} = await this.parse(ExampleHello)
    this.log(`Hello from aivault-plugin-example, ${flags.name}.`)
    return {greeted: flags.name}
  }
}

ExampleHello.summary = 'Say hello: proof that a plugin command runs inside aivault.'
ExampleHello.enableJsonFlag = true
ExampleHello.flags = {name: Flags.string({description: 'who to greet', default: 'operator'})}
ExampleHello.examples = ['<%= config.bin %> example hello --name agent']

module.exports = ExampleHello
